"""``advokit templates check`` and ``advokit templates preview``, through the CLI."""

from __future__ import annotations

import json
import os
import secrets
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from advokit import Advocate, InvalidValue
from advokit.cli import cli
from advokit.plugins.channels.segments import count_segments
from advokit.plugins.messages import TemplateError, Templates
from advokit.plugins.messages.templates import BUILT_IN

PROGRAM_MODULE = """
from advokit import Program
from advokit.plugins.channels import Email, Webhook
from advokit.plugins.messages import Messages
from advokit.plugins.points import Points, PointsRule

URL = {url!r}
TEMPLATES = {templates!r}


def build():
    plugins = [Points(PointsRule("share.posted", points=10))]
    if {messages!r}:
        plugins.append(
            Messages(
                secret="a-secret-of-32-characters-for-tests",
                templates=TEMPLATES,
                unsubscribe_url="https://shop.example/unsubscribe/{{token}}",
            )
        )
        plugins.append(Email(host="127.0.0.1", port=9, sender="a@shop.example", security="none"))
        plugins.append(
            Webhook(url="http://127.0.0.1:9/", secret="a-secret-of-32-characters", name="crm")
        )
    return Program(name="shop", database_url=URL, plugins=plugins, load_entrypoints=False)
"""

#: What ``check`` prints for advokit's built-in templates, in order.
BUILT_IN_LINES = [
    "detractor_alert   en  ok",
    "nps_survey        en  ok",
    "referral_invite   en  ok",
    "review_request    en  ok",
    "reward_delivered  en  ok",
    "thank_you         en  ok",
    "thank_you         pt  ok",
]


@pytest.fixture
def invoke(workdir: Path) -> Callable[..., Result]:
    # no installed third-party plugins, no program from the environment
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("ADVOKIT_")}
    env["ADVOKIT_LOAD_PLUGINS"] = ""
    runner = CliRunner(env=env)

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def program_of(workdir: Path) -> Iterator[Callable[..., str]]:
    """Write a program module with the given template files; returns ``module:build``."""
    names: list[str] = []

    def make(files: dict[str, str] | None = None, *, messages: bool = True) -> str:
        name = f"shop_{secrets.token_hex(4)}"
        templates = None
        if files is not None:
            templates = str(write(workdir / f"{name}_templates", files))
        source = PROGRAM_MODULE.format(
            url=f"sqlite:///{workdir / (name + '.db')}", templates=templates, messages=messages
        )
        (workdir / f"{name}.py").write_text(textwrap.dedent(source))
        names.append(name)
        return f"{name}:build"

    yield make
    for name in names:
        sys.modules.pop(name, None)


@pytest.fixture
def shop(program_of: Callable[..., str], invoke: Callable[..., Result]) -> str:
    """A migrated program with the built-in templates and two advocates: ``ann``
    (Ann Lee, no locale) and ``lukasz`` (Łukasz, Polish: not GSM-7)."""
    program = program_of()
    assert invoke("--program", program, "db", "upgrade").exit_code == 0
    with sys.modules[program.partition(":")[0]].build() as built:
        built.enroll(Advocate(external_id="ann", name="Ann Lee"))
        built.enroll(Advocate(external_id="lukasz", name="Łukasz", locale="pl"))
    return program


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def single_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def lines_of(result: Result) -> dict[str, str]:
    """``check``'s lines by their kind and locale (``"thank_you pt"``)."""
    found = {}
    for line in result.stdout.splitlines()[:-1]:
        kind, locale, outcome = line.split(maxsplit=2)
        found[f"{kind} {locale}"] = outcome
    return found


# --------------------------------------------------------------------------- check


def test_check_passes_on_the_built_in_templates_and_sends_nothing(shop, invoke):
    result = invoke("--program", shop, "templates", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [*BUILT_IN_LINES, "7 checked, 0 failed"]
    with sys.modules[shop.partition(":")[0]].build() as program:
        assert program.messages() == []


def test_check_needs_no_database(program_of, invoke):
    result = invoke("--program", program_of(), "templates", "check")  # never migrated
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("7 checked, 0 failed\n")


def test_check_fails_naming_the_undefined_variable_and_the_file(program_of, invoke, workdir):
    program = program_of({"en/welcome.txt": "Hi {{ advocate.name }}, use {{ coupon_code }}."})
    result = invoke("--program", program, "templates", "check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == "8 checked, 1 failed"
    outcome = lines_of(result)
    assert sum(value == "ok" for value in outcome.values()) == 7
    welcome = outcome["welcome en"]
    folder = workdir / f"{program.partition(':')[0]}_templates"
    assert "'en/welcome.txt' uses an undefined variable" in welcome
    assert "'coupon_code' is undefined" in welcome
    assert f"(in {folder / 'en' / 'welcome.txt'})" in welcome
    assert f"no sample data: add {folder / 'samples' / 'welcome.json'}" in welcome


def test_check_reports_what_the_sandbox_refuses(program_of, invoke):
    program = program_of({"en/evil.subject": "{{ ''.__class__.__mro__ }}"})
    result = invoke("--program", program, "templates", "check")
    assert result.exit_code == 1
    evil = lines_of(result)["evil en"]
    assert evil.startswith("error: template 'en/evil.subject' tried what the sandbox forbids")
    assert "__class__" in evil
    assert result.stdout.endswith("8 checked, 1 failed\n")


def test_a_broken_override_of_a_built_in_fails_every_locale_that_uses_it(program_of, invoke):
    program = program_of({"en/thank_you.html": "<p>{{ advocate.nmae }}</p>"})
    result = invoke("--program", program, "templates", "check")
    assert result.exit_code == 1
    outcome = lines_of(result)
    # pt has no html of its own: a Portuguese advocate would get the broken English one
    for locale in ("en", "pt"):
        assert "'en/thank_you.html' uses an undefined variable" in outcome[f"thank_you {locale}"]
        assert "nmae" in outcome[f"thank_you {locale}"]
    assert outcome["review_request en"] == "ok"
    assert result.stdout.endswith("7 checked, 2 failed\n")


def test_the_programs_sample_file_is_used(program_of, invoke):
    files = {
        "en/welcome.txt": "Hi {{ advocate.name }} ({{ advocate.attributes.tier }}): {{ code }}",
        "samples/welcome.json": json.dumps(
            {"code": "W-1", "advocate": {"attributes": {"tier": 1}}}
        ),
    }
    result = invoke("--program", program_of(files), "templates", "check", "--kind", "welcome")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["welcome  en  ok", "1 checked, 0 failed"]

    # without the advocate's attribute in the sample, the same template fails
    files["samples/welcome.json"] = json.dumps({"code": "W-1"})
    result = invoke("--program", program_of(files), "templates", "check", "--kind", "welcome")
    assert result.exit_code == 1
    assert "has no attribute 'tier'" in lines_of(result)["welcome en"]
    assert "add it to the sample data" in lines_of(result)["welcome en"]


def test_the_sample_context_has_what_compose_adds(program_of, invoke):
    # each template renders an undefined variable, and so fails, unless its condition holds
    expected = {
        "advocate": 'advocate.name == "Ann Example" and advocate.external_id',
        "locale": "advocate.locale == 'pt-BR' and advocate.attributes == {}",
        "program": 'program == "shop"',
        "link": 'unsubscribe_url.startswith("https://shop.example/unsubscribe/")',
        "data": 'code == "C-1"',
    }
    files = {
        f"pt-BR/welcome_{name}.txt": f"{{% if not ({test}) %}}{{{{ wrong_{name} }}}}{{% endif %}}"
        for name, test in expected.items()
    }
    files["samples/welcome_data.json"] = '{"code": "C-1", "program": "not this"}'
    result = invoke("--program", program_of(files), "templates", "check", "--locale", "pt-BR")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("5 checked, 0 failed\n")
    files["pt-BR/welcome_data.txt"] = "{% if code == 'C-1' %}{{ wrong }}{% endif %}"
    result = invoke("--program", program_of(files), "templates", "check", "--locale", "pt-BR")
    assert "'wrong' is undefined" in lines_of(result)["welcome_data pt-BR"]


def test_the_programs_sample_overrides_a_built_in_kinds(program_of, invoke, workdir):
    # the program's samples/review_request.json wins over the built-in one, which has review_url
    program = program_of({"samples/review_request.json": '{"incentive": null}'})
    result = invoke("--program", program, "templates", "check", "--kind", "review_request")
    assert result.exit_code == 1
    line = lines_of(result)["review_request en"]
    assert "'review_url' is undefined" in line
    sample = workdir / f"{program.partition(':')[0]}_templates" / "samples" / "review_request.json"
    assert f"add it to the sample data {sample}" in line


@pytest.mark.parametrize(
    ("sample", "problem"),
    [("{", "is not valid JSON"), ("[1, 2]", "is a JSON list: expected an object")],
)
def test_a_bad_sample_file_fails_its_kind(program_of, invoke, sample, problem):
    program = program_of({"en/welcome.txt": "Hi", "samples/welcome.json": sample})
    result = invoke("--program", program, "templates", "check")
    assert result.exit_code == 1
    outcome = lines_of(result)
    assert problem in outcome["welcome en"]
    assert "samples/welcome.json" in outcome["welcome en"]
    assert outcome["thank_you en"] == "ok"


def test_check_takes_only_the_kinds_and_locales_asked_for(program_of, invoke):
    program = program_of({"en/welcome.txt": "{{ nothing }}", "pt/welcome.txt": "Olá"})

    result = invoke("--program", program, "templates", "check", "--kind", "thank_you")
    assert result.exit_code == 0, result.output  # the broken welcome is not checked
    assert result.stdout.splitlines() == [
        "thank_you  en  ok",
        "thank_you  pt  ok",
        "2 checked, 0 failed",
    ]

    result = invoke("--program", program, "templates", "check", "--locale", "pt")
    assert result.exit_code == 0, result.output  # pt/welcome.txt is the only part pt has
    assert result.stdout.splitlines() == [
        "thank_you  pt  ok",
        "welcome    pt  ok",
        "2 checked, 0 failed",
    ]

    result = invoke(
        "--program", program, "templates", "check", "--kind", "welcome", "--kind", "thank_you",
        "--locale", "en",
    )  # fmt: skip
    assert result.exit_code == 1
    assert sorted(lines_of(result)) == ["thank_you en", "welcome en"]
    assert result.stdout.endswith("2 checked, 1 failed\n")


def test_check_refuses_a_kind_or_locale_without_templates(program_of, invoke):
    program = program_of()
    line = single_error_line(invoke("--program", program, "templates", "check", "--kind", "nope"))
    assert "--kind='nope' is not valid" in line
    assert "review_request, reward_delivered, thank_you" in line
    line = single_error_line(invoke("--program", program, "templates", "check", "--locale", "de"))
    assert "--locale='de' is not valid: expected one of en, pt" in line
    line = single_error_line(
        invoke(
            "--program", program, "templates", "check", "--kind", "review_request", "--locale", "pt"
        )
    )
    assert "no template matches --kind and --locale" in line


def test_a_program_without_messages_has_no_templates_command(program_of, invoke):
    result = invoke("--program", program_of(messages=False), "templates", "check")
    assert result.exit_code == 2
    assert "No such command 'templates'" in result.stderr


# --------------------------------------------------------------------------- preview


def test_preview_prints_each_part_and_the_sms_segments(shop, invoke):
    result = invoke("--program", shop, "templates", "preview", "thank_you", "--advocate", "ann")
    assert result.exit_code == 0, result.output
    sms = "Thank you for being part of shop, Ann Lee!"
    out = result.stdout
    assert out.startswith("--- Subject ---\nThank you, Ann Lee\n\n--- Text ---\nHi Ann Lee,\n")
    assert "Unsubscribe: https://shop.example/unsubscribe/" in out  # marketing, by default
    assert "--- HTML ---\n<p>Hi Ann Lee,</p>" in out
    assert out.endswith(f"--- SMS: 1 segment (GSM-7, {len(sms)} characters) ---\n{sms}\n")
    assert out.index("Subject") < out.index("Text") < out.index("HTML") < out.index("SMS")


def test_preview_counts_the_segments_of_the_rendered_sms(shop, invoke):
    result = invoke("--program", shop, "templates", "preview", "thank_you", "--advocate", "lukasz")
    assert result.exit_code == 0, result.output
    sms = "Thank you for being part of shop, Łukasz!"  # Ł is not GSM-7: all of it is UCS-2
    assert f"--- SMS: {count_segments(sms)} ---\n{sms}\n" in result.stdout
    assert "(UCS-2, 41 characters)" in result.stdout


def test_preview_takes_the_context_and_category(shop, invoke):
    result = invoke(
        "--program", shop, "templates", "preview", "review_request", "--advocate", "ann",
        "--context", '{"review_url": "https://g.page/r/shop", "incentive": null}',
        "--category", "transactional",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Leave a review: https://g.page/r/shop" in result.stdout
    assert "Unsubscribe" not in result.stdout  # transactional: no unsubscribe link
    assert "--- SMS" not in result.stdout  # review_request has no SMS part


def test_preview_links_the_unsubscribe_of_the_channel_it_goes_on(shop, invoke):
    from advokit.plugins.messages import read_token

    def token(*channel):
        result = invoke(
            "--program", shop, "templates", "preview", "thank_you", "--advocate", "ann", *channel
        )
        assert result.exit_code == 0, result.output
        (link,) = [w for w in result.stdout.split() if w.startswith("https://shop.example/")]
        return read_token("a-secret-of-32-characters-for-tests", "shop", link.rpartition("/")[2])

    assert token() == ("ann", "email")
    assert token("--channel", "crm") == ("ann", "crm")
    result = invoke(
        "--program", shop, "templates", "preview", "thank_you", "--advocate", "ann",
        "--channel", "pigeon",
    )  # fmt: skip
    assert "channel='pigeon' is not valid: expected one of crm, email" in single_error_line(result)


def test_preview_json(shop, invoke):
    result = invoke(
        "--program", shop, "templates", "preview", "thank_you", "--advocate", "ann", "--json"
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    sms = "Thank you for being part of shop, Ann Lee!"
    assert shown["subject"] == "Thank you, Ann Lee"
    assert shown["text"].startswith("Hi Ann Lee,\n\nthank you for being part of shop.")
    assert shown["html"].startswith("<p>Hi Ann Lee,</p>")
    assert shown["sms"] == sms
    assert shown["sms_segments"] == {
        "encoding": "GSM-7",
        "units": len(sms),
        "segments": 1,
        "per_segment": 160,
    }
    result = invoke(
        "--program", shop, "templates", "preview", "review_request", "--advocate", "ann",
        "--context", '{"review_url": "https://g.page/r/shop", "incentive": "50 points."}',
        "--json",
    )  # fmt: skip
    shown = json.loads(result.stdout)
    assert shown["sms"] is None
    assert shown["sms_segments"] is None
    assert "50 points." in shown["text"]


@pytest.mark.parametrize(
    ("context", "problem"),
    [
        ("[1, 2]", "--context='[1, 2]' is not valid: expected a JSON object"),
        ('"text"', "expected a JSON object"),
        ("{review_url:", "--context is not valid JSON"),
    ],
)
def test_preview_refuses_a_context_that_is_not_a_json_object(shop, invoke, context, problem):
    result = invoke(
        "--program", shop, "templates", "preview", "thank_you", "--advocate", "ann",
        "--context", context,
    )  # fmt: skip
    assert problem in single_error_line(result)


def test_preview_of_an_unknown_advocate_is_one_error_line(shop, invoke):
    result = invoke("--program", shop, "templates", "preview", "thank_you", "--advocate", "bob")
    line = single_error_line(result)
    assert "advocate='bob' is not valid" in line
    assert "enrolled in program 'shop'" in line


def test_preview_of_an_unknown_kind_is_one_error_line(shop, invoke):
    result = invoke("--program", shop, "templates", "preview", "nope", "--advocate", "ann")
    assert "no template for message 'nope'" in single_error_line(result)


def test_preview_of_a_template_missing_context_names_the_variable(shop, invoke):
    result = invoke(
        "--program", shop, "templates", "preview", "review_request", "--advocate", "ann"
    )
    line = single_error_line(result)
    assert "'en/review_request" in line
    assert "'review_url' is undefined" in line


# --------------------------------------------------------------------------- Templates


def test_kinds_are_the_locale_folders_templates(tmp_path):
    folder = write(
        tmp_path,
        {
            "en/welcome.txt": "Hi",
            "en/welcome.sms": "Hi",
            "pt-BR/welcome.subject": "Oi",
            "en/notes.md": "not a part",
            "macros/layout.txt": "a folder of macros, not a locale",
            "en/partials/footer.txt": "a nested file",
            "samples/welcome.json": "{}",
        },
    )
    templates = Templates([folder, BUILT_IN])
    kinds = templates.kinds()
    assert kinds == sorted(kinds)
    assert set(kinds) == {
        ("en", "welcome"),
        ("pt-BR", "welcome"),
        ("en", "detractor_alert"),
        ("en", "nps_survey"),
        ("en", "referral_invite"),
        ("en", "review_request"),
        ("en", "reward_delivered"),
        ("en", "thank_you"),
        ("pt", "thank_you"),
    }


def test_path_and_sample_file_take_the_first_folder_that_has_them(tmp_path):
    own = write(
        tmp_path / "own",
        {"en/thank_you.txt": "Hi", "samples/review_request.json": '{"review_url": "u"}'},
    )
    templates = Templates([own, BUILT_IN])
    assert templates.path("en/thank_you.txt") == own / "en" / "thank_you.txt"
    assert templates.path("en/thank_you.sms") == BUILT_IN / "en" / "thank_you.sms"
    assert templates.path("en/nothing.txt") is None
    assert templates.sample_file("review_request") == own / "samples" / "review_request.json"
    assert templates.sample("review_request") == {"review_url": "u"}
    assert templates.sample_file("thank_you") == BUILT_IN / "samples" / "thank_you.json"
    assert templates.sample("welcome") is None
    for kind in ("../thank_you", "samples/../x", ".hidden", ""):
        with pytest.raises(InvalidValue, match="kind="):
            templates.sample_file(kind)


def test_a_template_error_names_its_template(tmp_path):
    templates = Templates([write(tmp_path, {"en/hello.txt": "{{ nope }}"})])
    with pytest.raises(TemplateError) as raised:
        templates.render("hello", "en", {})
    assert raised.value.template == "en/hello.txt"
    with pytest.raises(TemplateError) as raised:
        templates.render("nothing", "en", {})
    assert raised.value.template is None
