"""advokit-tremendous against a local server keeping Tremendous's order contract.

The server on 127.0.0.1 creates one order per ``external_id``; a second
create-order request with the same ``external_id`` answers 201 with the first
order and creates nothing, as Tremendous documents.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("advokit_tremendous") is None:  # run from the advokit checkout
    sys.path.insert(0, str(HERE / "src"))

from advokit_tremendous import Tremendous, from_environment  # noqa: E402

from advokit import Action, Advocate, IssueReward, Reward, hookimpl  # noqa: E402
from advokit.core.errors import ConfigurationError  # noqa: E402
from advokit.plugins.rewards import Rewards, RewardState  # noqa: E402

API_KEY = "TEST_api_key"


class FakeTremendous:
    """POST /api/v2/orders, Bearer-authenticated, idempotent by external_id."""

    def __init__(self, status: str = "EXECUTED") -> None:
        self.status = status
        self.orders: dict[str, dict] = {}
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/api/v2/orders":
                    return self._send(404, {"errors": {"message": "not found"}})
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    return self._send(401, {"errors": {"message": "bad key"}})
                fake.requests.append(body)
                external = body["external_id"]
                if external not in fake.orders:
                    number = len(fake.orders) + 1
                    fake.orders[external] = {
                        "id": f"ORDER{number}",
                        "external_id": external,
                        "status": fake.status,
                        "rewards": [{"id": f"REWARD{number}", "value": body["reward"]["value"]}],
                    }
                return self._send(201, {"order": fake.orders[external]})

            def _send(self, status: int, answer: dict) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v2"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Cards:
    plugin_name = "cards"
    advokit_evaluates = frozenset({"review.posted"})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        reward = Reward(kind="gift_card", amount=2550, currency="EUR")
        return [IssueReward(advocate=action.advocate, reward=reward)]


def program_with(make_program, fake, email="ann@example.com"):
    tremendous = Tremendous(API_KEY, products=["OKMHM2X2OHYV"], base_url=fake.base_url)
    program = make_program(plugins=[Rewards(), Cards(), tremendous])
    program.enroll(Advocate(external_id="ann", name="Ann", email=email))
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))
    (reward,) = program.rewards("ann")
    return program, tremendous, reward


def test_a_gift_card_becomes_one_order_with_the_reward_key_as_external_id(make_program):
    with FakeTremendous() as fake:
        program, _, reward = program_with(make_program, fake)
        assert program.fulfil_pending().fulfilled == 1
    (sent,) = fake.requests
    assert sent == {
        "external_id": f"test:{reward.key}",
        "payment": {"funding_source_id": "balance"},
        "reward": {
            "value": {"denomination": 25.5, "currency_code": "EUR"},
            "recipient": {"name": "Ann", "email": "ann@example.com"},
            "delivery": {"method": "EMAIL"},
            "products": ["OKMHM2X2OHYV"],
        },
    }
    done = program.reward(reward.key)
    assert done.state is RewardState.FULFILLED
    assert done.result == {
        "order": "ORDER1",
        "status": "EXECUTED",
        "reward": "REWARD1",
        "external_id": f"test:{reward.key}",
    }


def test_asking_again_after_a_crash_returns_the_first_order(make_program):
    with FakeTremendous() as fake:
        program, tremendous, reward = program_with(make_program, fake)
        first = tremendous.fulfil(program, reward)  # the worker died before writing this
        assert program.fulfil_pending().fulfilled == 1  # claimed again: the same key
    assert len(fake.requests) == 2
    assert len(fake.orders) == 1  # one order, one payment
    assert program.reward(reward.key).result == first


def test_a_failed_order_and_an_advocate_without_email_are_dead_lettered(make_program):
    with FakeTremendous(status="FAILED") as fake:
        program, _, reward = program_with(make_program, fake)
        assert program.fulfil_pending().failed == 1
    assert "is FAILED" in program.reward(reward.key).error
    with FakeTremendous() as fake:
        program, _, reward = program_with(make_program, fake, email=None)
        assert program.fulfil_pending().failed == 1
    assert "has no email" in program.reward(reward.key).error
    assert fake.requests == []


def test_settings_are_checked():
    with pytest.raises(ConfigurationError, match="products"):
        Tremendous(API_KEY)
    with pytest.raises(ConfigurationError, match="api_key"):
        Tremendous("", products=["P"])
    with pytest.raises(ConfigurationError, match="base_url"):
        Tremendous(API_KEY, products=["P"], base_url="tremendous.com")


def test_the_environment_configures_it_or_nothing():
    assert from_environment({}) is None
    configured = from_environment(
        {
            "TREMENDOUS_API_KEY": API_KEY,
            "TREMENDOUS_PRODUCTS": "A, B",
            "TREMENDOUS_BASE_URL": "http://127.0.0.1:1/api/v2",
        }
    )
    assert configured.products == ("A", "B")
    assert configured.base_url == "http://127.0.0.1:1/api/v2"


def test_the_entry_point_is_found_by_advokit(tmp_path, monkeypatch, make_program):
    """Installed, the package's ``advokit`` entry point registers the fulfiller."""
    project = tomllib.loads((HERE / "pyproject.toml").read_text())
    points = project["project"]["entry-points"]["advokit"]
    assert points == {"tremendous": "advokit_tremendous:plugin"}
    info = tmp_path / "advokit_tremendous-0.1.0.dev0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: advokit-tremendous\nVersion: 0.1.0.dev0\n"
    )
    (info / "entry_points.txt").write_text(
        "[advokit]\n" + "".join(f"{name} = {value}\n" for name, value in points.items())
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ADVOKIT_LOAD_PLUGINS", "tremendous")
    monkeypatch.setenv("TREMENDOUS_API_KEY", API_KEY)
    monkeypatch.setenv("TREMENDOUS_PRODUCTS", "OKMHM2X2OHYV")
    program = make_program(plugins=[Rewards()], load_entrypoints=True)
    assert program.registries.fulfillers.plugin_of("gift_card") == "tremendous"


@pytest.mark.parametrize(
    ("amount", "currency", "denomination"),
    [(2550, "EUR", 25.5), (2550, "JPY", 2550), (2550, "PYG", 2550), (2550, "KWD", 2.55)],
)
def test_amounts_in_minor_units_become_the_currencys_denomination(amount, currency, denomination):
    class Program:
        name = "shop"

        def advocate(self, external_id):
            return Advocate(external_id=external_id, email="ann@example.com")

    from datetime import UTC, datetime

    from advokit.plugins.rewards import IssuedReward

    now = datetime(2026, 6, 1, tzinfo=UTC)
    reward = IssuedReward(
        key="k",
        advocate="ann",
        reward=Reward(kind="gift_card", amount=amount, currency=currency),
        state=RewardState.FULFILLING,
        cause="c",
        item=None,
        created_at=now,
        updated_at=now,
    )
    order = Tremendous(API_KEY, products=["P"]).order(Program(), reward)
    assert order["reward"]["value"] == {"denomination": denomination, "currency_code": currency}


def test_the_external_id_is_scoped_by_program_and_fits_any_key():
    from advokit_tremendous import external_id

    assert external_id("shop", "review-1>reward:0") == "shop:review-1>reward:0"
    assert external_id("staging", "k") != external_id("shop", "k")
    long = external_id("shop", "k" * 255)
    assert long.startswith("advokit:")
    assert len(long) <= 255
    assert long == external_id("shop", "k" * 255) != external_id("shop", "k" * 254 + "j")
