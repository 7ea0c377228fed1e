"""Channels: the ways messages reach advocates and the team (email; Slack, SMS and
webhooks to come), registered through ``advokit_register_channels``."""

from __future__ import annotations

from advokit.plugins.channels.smtp import Email, HeaderInjection, check_header

__all__ = ["Email", "HeaderInjection", "check_header"]
