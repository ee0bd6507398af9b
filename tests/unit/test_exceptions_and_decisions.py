from datetime import UTC, date, datetime, timedelta

import pytest

from ccm.constants import Frequency, Status
from ccm.controls.catalog import Control, SourceRequirement
from ccm.controls.engine import decide
from ccm.controls.exceptions import ControlException, ExceptionRegister, load_exceptions
from ccm.controls.gx_runner import CONTROL_LEVEL_ENTITY
from ccm.errors import ConfigError
from ccm.periods import Period

CONTROL = Control("iam_x", "X", "x", ("CC6.1",), "Security", Frequency.DAILY, "ctl_iam_x", "ctl_iam_x",
                  (SourceRequirement("okta.users", timedelta(hours=6)),))


def day(n: int) -> Period:
    return Period(datetime(2025, 10, n, tzinfo=UTC), datetime(2025, 10, n + 1, tzinfo=UTC))


def exception(entity: str, approved: date, expires: date) -> ControlException:
    return ControlException("EXC-1", "iam_x", entity, "why", "CISO", approved, "SEC-1", expires)


def test_an_exception_covers_periods_closing_while_it_is_in_force():
    register = ExceptionRegister((exception("u1", date(2025, 10, 3), date(2025, 10, 5)),))
    assert register.covering("iam_x", "u1", day(2)) is None  # closes at 10-03 00:00, when approval starts
    assert register.covering("iam_x", "u1", day(3)) is not None
    assert register.covering("iam_x", "u1", day(5)) is not None  # in force through the end of expires_on
    assert register.covering("iam_x", "u1", day(6)) is None  # expired: no longer covers
    assert register.covering("iam_x", "u2", day(4)) is None
    assert register.covering("iam_other", "u1", day(4)) is None


def test_decisions():
    register = ExceptionRegister((exception("u1", date(2025, 10, 1), date(2025, 10, 31)),))
    assert decide(CONTROL, day(4), (), register).status is Status.PASS
    excepted = decide(CONTROL, day(4), ("u1",), register)
    assert excepted.status is Status.EXCEPTED and excepted.exception_ids == ("EXC-1",)
    mixed = decide(CONTROL, day(4), ("u1", "u2"), register)
    assert mixed.status is Status.FAIL and mixed.excepted == ("u1",)
    # a table-level failure has no entity to except
    assert decide(CONTROL, day(4), (CONTROL_LEVEL_ENTITY,), register).status is Status.FAIL


def test_exceptions_file_errors_name_the_entry(tmp_path):
    path = tmp_path / "exceptions.yml"
    path.write_text("exceptions:\n  - exception_id: EXC-9\n    control_id: iam_x\n    entity_id: u\n"
                    "    reason: r\n    approved_by: a\n    approved_on: 2025-10-05\n    ticket: T\n"
                    "    expires_on: 2025-10-01\n")
    with pytest.raises(ConfigError, match=r"exception #1 \(EXC-9\): field 'expires_on' is before 'approved_on'"):
        load_exceptions(path, {"iam_x"})
    path.write_text(path.read_text().replace("2025-10-01", "2025-10-31"))
    # an exception for a control outside the matrix cannot apply: ignored (its entity fails), not fatal
    assert load_exceptions(path, {"iam_y"}).exceptions == ()
    assert len(load_exceptions(path, {"iam_x"}).exceptions) == 1


def test_the_committed_exceptions_file_is_valid():
    from ccm.config import Settings

    assert load_exceptions(Settings.from_env().project_dir / "include" / "exceptions.yml").exceptions == ()


def test_an_exception_for_one_default_group_does_not_cover_the_other_vpcs():
    """Two VPCs in one region each have a group named default; the population names them
    by ARN (dbt unit test same_name_in_two_vpcs_is_two_groups), so approving one leaves
    the other failing."""
    first = "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0aaaaaaaaaaaaaaa1"
    second = "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0bbbbbbbbbbbbbbb2"
    register = ExceptionRegister((exception(first, date(2025, 10, 1), date(2025, 10, 31)),))
    assert decide(CONTROL, day(4), (first,), register).status is Status.EXCEPTED
    both = decide(CONTROL, day(4), (first, second), register)
    assert both.status is Status.FAIL and both.excepted == (first,)
