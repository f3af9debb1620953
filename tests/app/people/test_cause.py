"""What the person is treated for fits the content to them, through every way it is set.

People on cancer treatment can have low platelets and a high clot risk (foot-care-guidance.md:
no massage with a bleeding disorder or a clot), so massage starts off for them until they or
an operator turn it on; a cause set later turns massage off only when nobody chose it, and
never turns it on. Asserted on `show --json` and on the preferences stored in Redis.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli

ANA, BO, CY, DI = "+13125550150", "+13125550151", "+13125550152", "+13125550153"


def shown(cli: Cli, phone: str) -> dict[str, object]:
    result = cli("show", phone, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_cancer_treatment_starts_without_massage_and_others_with_it(cli: Cli) -> None:
    for phone, cause in ((ANA, "cancer_treatment"), (BO, "diabetes")):
        done = cli("subscribe", phone, "--confirmed", "--cause", cause)
        assert done.returncode == 0, done.stderr
    assert cli("subscribe", CY, "--confirmed").returncode == 0
    assert (shown(cli, ANA)["cause"], shown(cli, ANA)["massage_ok"]) == ("cancer_treatment",
                                                                          False)
    assert (shown(cli, BO)["cause"], shown(cli, BO)["massage_ok"]) == ("diabetes", True)
    assert shown(cli, CY)["cause"] is None


def test_a_cause_set_later_turns_massage_off_only_when_nobody_chose_it(cli: Cli) -> None:
    for phone in (ANA, BO):
        assert cli("subscribe", phone, "--confirmed").returncode == 0
    # Bo chose massage himself: off, then on again (an operator's set stands for his MASSAGE
    # OFF / ON; setting the value it already has is no choice, as the console's form resends).
    assert cli("set", BO, "massage_ok=false").returncode == 0
    assert cli("set", BO, "massage_ok=true").returncode == 0
    for phone in (ANA, BO):
        assert cli("set", phone, "cause=cancer_treatment").returncode == 0
    assert shown(cli, ANA)["massage_ok"] is False  # the default followed the cause
    assert shown(cli, BO)["massage_ok"] is True  # his choice is kept
    # And a cause never turns massage on.
    assert cli("set", ANA, "cause=diabetes").returncode == 0
    assert shown(cli, ANA)["massage_ok"] is False


def test_a_bad_cause_is_refused_and_changes_nothing(cli: Cli) -> None:
    assert cli("subscribe", ANA, "--confirmed", "--cause", "diabetes").returncode == 0
    refused = cli("set", ANA, "cause=chemo-maybe")
    assert refused.returncode == 2 and "cause" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert shown(cli, ANA)["cause"] == "diabetes"


def test_the_import_column_sets_the_cause(cli: Cli, tmp_path: Path) -> None:
    rows = tmp_path / "people.csv"
    rows.write_text("phone,timezone,time,confirmed,cause\n"
                    f"{ANA},America/Chicago,20:00,yes,cancer_treatment\n"
                    f"{DI},America/Chicago,20:00,yes,other\n"
                    f"{BO},America/Chicago,20:00,yes,flu\n")
    done = cli("import", str(rows))
    assert shown(cli, ANA)["cause"] == "cancer_treatment"
    assert shown(cli, ANA)["massage_ok"] is False
    assert shown(cli, DI)["cause"] == "other"
    # The bad row is reported with its line and stores nothing.
    assert "4" in done.stdout + done.stderr and "cause" in (done.stdout + done.stderr)
    assert cli("show", BO, "--json").returncode == 2
