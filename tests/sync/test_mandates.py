"""The mandate pipeline end to end: Club-assistent pain.008 -> engine -> Exact fake.

Collection files are written with the Club-assistent sample writer of
``exactbridge.testing``; customers exist in the fake Exact division (created through
the Exact client, as the invoice pipeline would). Exact's contents are read back
through the Exact client.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.exact import NewAccount, NewBankAccount, P
from exactbridge.mapping import BookingConfig
from exactbridge.records import Mandate, SequenceType
from exactbridge.sync import (
    BookingKey,
    BookingStatus,
    MemoryStateStore,
    RunStatus,
    SQLiteStateStore,
    StateStore,
)
from exactbridge.sync.mandates import (
    ClubassistentMandates,
    MandateBatch,
    MandatePipeline,
    MandateSource,
    mandate_fields,
    mandate_hash,
)
from exactbridge.testing import (
    FakeClock,
    FakeExactOnline,
    Fault,
    SampleDebit,
    SampleInvoice,
    SampleLine,
    write_invoice_csv,
    write_pain008,
)
from exactbridge.testing.clubassistent import iban_for

DIVISION = 1001
START = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.timezone.utc)
TENANT = "hockeyclub"
SIGNED = dt.date(2021, 3, 1)


def debit(member: int, *, sequence: str = "RCUR", iban: str | None = None) -> SampleDebit:
    """A collection of invoice ``F<member>`` under mandate ``MACHT-<member>``."""
    return SampleDebit(
        end_to_end_id=f"F{member}",
        amount=Decimal("25.00"),
        mandate_id=f"MACHT-{member}",
        signature_date=SIGNED,
        debtor_name=f"Ouder van lid {member}",
        debtor_iban=iban or iban_for(member),
        sequence_type=sequence,
    )


def pain008(*debits: SampleDebit) -> bytes:
    buffer = io.BytesIO()
    write_pain008(buffer, debits)
    return buffer.getvalue()


@attrs.define
class World:
    clock: FakeClock
    fake: FakeExactOnline
    store: StateStore
    config: BookingConfig = attrs.field(
        factory=lambda: BookingConfig.from_mapping({"sales_journal": "70"})
    )
    files: list[bytes] = attrs.field(factory=list)
    links: dict[str, str] = attrs.field(factory=dict)

    @property
    def exact(self) -> Any:
        return self.fake.client(DIVISION)

    def customer(self, code: str) -> uuid.UUID:
        created = self.exact.accounts.create(
            NewAccount(name=f"Lid {code}", code=code, status="C", is_sales=True)
        )
        return uuid.UUID(str(created.id))

    def collect(self, *debits: SampleDebit) -> None:
        """A collection file, each invoice ``F<n>`` linked to member ``<n>``."""
        self.files.append(pain008(*debits))
        for item in debits:
            self.links[item.end_to_end_id] = item.end_to_end_id[1:]

    def source(self) -> ClubassistentMandates:
        return ClubassistentMandates(self.files, tenant=TENANT, member_by_invoice=self.links)

    def pipeline(self, **options: Any) -> MandatePipeline:
        source = options.pop("source", None) or self.source()
        return MandatePipeline(
            source, self.fake.client(DIVISION), self.config, self.store, clock=self.clock, **options
        )

    def mandates(self) -> dict[str, Any]:
        rows = self.exact.direct_debit_mandates.iterate(
            select=["ID", "Account", "BankAccount", "Reference", "FirstSend", "SignatureDate"]
        )
        return {row.reference: row for row in rows}

    def bank_accounts(self, account: uuid.UUID) -> list[Any]:
        return list(self.exact.bank_accounts.iterate(filter=P("Account") == account))

    def writes(self) -> int:
        return sum(self.fake.count(method) for method in ("POST", "PUT", "DELETE"))

    def record(self, mandate_id: str) -> Any:
        return self.store.get(BookingKey("clubassistent", TENANT, mandate_id, "mandate"))


@pytest.fixture
def world() -> Iterator[World]:
    clock = FakeClock(START)
    fake = FakeExactOnline(clock=clock)
    fake.add_division(DIVISION, template="nl")
    store = MemoryStateStore()
    yield World(clock, fake, store)
    store.close()


# -- creating ---------------------------------------------------------------------------


def test_bank_accounts_and_mandates_are_created_once(world: World) -> None:
    ann = world.customer("11")
    bob = world.customer("12")
    world.collect(debit(11, sequence="FRST"), debit(12))
    pipeline = world.pipeline()

    report = pipeline.run()

    assert report.status is RunStatus.SUCCEEDED
    assert sorted(r.record_id for r in report.booked) == ["MACHT-11", "MACHT-12"]
    mandates = world.mandates()
    assert set(mandates) == {"MACHT-11", "MACHT-12"}
    assert mandates["MACHT-11"].account == ann
    assert mandates["MACHT-12"].account == bob
    assert mandates["MACHT-11"].first_send == 1
    assert mandates["MACHT-12"].first_send == 0
    assert mandates["MACHT-11"].signature_date == SIGNED
    [bank] = world.bank_accounts(ann)
    assert bank.iban == iban_for(11)
    assert mandates["MACHT-11"].bank_account == bank.id
    record = world.record("MACHT-11")
    assert record.status is BookingStatus.BOOKED
    assert record.exact_id == str(mandates["MACHT-11"].id)
    writes = world.writes()
    world.fake.clear_calls()

    again = pipeline.run()

    assert again.results == ()
    assert again.unchanged == 2
    assert again.exact_calls == 0
    assert world.writes() == 0
    assert writes == 2 + 4  # two customers, then two bank accounts and two mandates


def test_an_existing_bank_account_with_the_iban_is_used(world: World) -> None:
    ann = world.customer("11")
    world.exact.bank_accounts.create(
        NewBankAccount(account=ann, bank_account=iban_for(11), iban=iban_for(11))
    )
    world.collect(debit(11))
    world.fake.clear_calls()

    report = world.pipeline().run()

    [row] = report.booked
    assert row.reason == "customer 11, bank account already in Exact"
    assert world.fake.count("POST", "crm/BankAccounts") == 0
    assert world.fake.count("POST", "cashflow/DirectDebitMandates") == 1
    assert len(world.bank_accounts(ann)) == 1


def test_a_mandate_already_in_exact_is_taken_as_it_is(world: World) -> None:
    world.customer("11")
    world.collect(debit(11))
    world.pipeline().run()
    other_store = MemoryStateStore()
    world.fake.clear_calls()

    fresh = MandatePipeline(
        world.source(), world.exact, world.config, other_store, clock=world.clock
    ).run()

    assert fresh.booked == ()
    assert fresh.unchanged == 1
    assert world.writes() == 0
    key = BookingKey("clubassistent", TENANT, "MACHT-11", "mandate")
    remembered = other_store.get(key)
    assert remembered is not None
    assert remembered.status is BookingStatus.BOOKED


def test_the_customer_remembered_by_the_invoice_pipeline_is_used(world: World) -> None:
    account = world.customer("M-0042")  # a code the debtor policy would not derive
    key = BookingKey("clubassistent", TENANT, "42", "account")
    world.store.record_intent(key, content_hash=None, your_ref=None, journal=None, now=START)
    world.store.mark_booked(key, exact_id=account, entry_number=None, content_hash=None, now=START)
    world.collect(debit(42))

    report = world.pipeline().run()

    assert [r.record_id for r in report.booked] == ["MACHT-42"]
    assert world.mandates()["MACHT-42"].account == account


def test_listing_mode_reads_the_division_once(world: World) -> None:
    for member in (11, 12, 13):
        world.customer(str(member))
    world.collect(debit(11), debit(12), debit(13))
    world.fake.clear_calls()

    report = world.pipeline(listing_threshold=0).run()

    assert len(report.booked) == 3
    assert world.fake.count("GET", "cashflow/DirectDebitMandates") == 1
    assert world.fake.count("GET", "crm/BankAccounts") == 1
    assert len(world.mandates()) == 3


def test_one_lookup_per_mandate_below_the_threshold(world: World) -> None:
    for member in (11, 12):
        world.customer(str(member))
    world.collect(debit(11), debit(12))
    world.fake.clear_calls()

    world.pipeline().run()

    assert world.fake.count("GET", "cashflow/DirectDebitMandates") == 2
    assert world.fake.count("GET", "crm/BankAccounts") == 2


# -- failures ---------------------------------------------------------------------------


def test_a_mandate_without_its_customer_fails_alone_and_follows_later(world: World) -> None:
    world.customer("11")
    world.collect(debit(11), debit(77))
    pipeline = world.pipeline()

    first = pipeline.run()

    assert first.status is RunStatus.PARTIAL
    assert [r.record_id for r in first.booked] == ["MACHT-11"]
    [failed] = first.failed
    assert failed.record_id == "MACHT-77"
    assert failed.reason is not None
    assert "customer 77 (member 77) does not exist in Exact yet" in failed.reason
    assert world.record("MACHT-77").status is BookingStatus.FAILED
    world.customer("77")

    second = pipeline.retry()

    assert [r.record_id for r in second.booked] == ["MACHT-77"]
    assert second.status is RunStatus.SUCCEEDED
    assert set(world.mandates()) == {"MACHT-11", "MACHT-77"}


def test_a_mandate_not_linked_to_a_member_fails_with_the_reason(world: World) -> None:
    world.customer("11")
    world.files.append(pain008(debit(11)))  # no invoice link for F11

    report = world.pipeline().run()

    [failed] = report.failed
    assert failed.reason is not None
    assert "not linked to a member" in failed.reason
    assert world.mandates() == {}


def test_a_bad_record_in_the_file_fails_alone(world: World) -> None:
    world.customer("11")
    world.customer("12")
    world.collect(debit(11), debit(12, iban="NL00BANK0000000000"))

    report = world.pipeline().run()

    assert [r.record_id for r in report.booked] == ["MACHT-11"]
    [failed] = report.failed
    assert failed.record_id == "F12"
    assert failed.reason is not None
    assert "IBAN" in failed.reason
    assert report.status is RunStatus.PARTIAL
    assert set(world.mandates()) == {"MACHT-11"}


def test_a_file_that_is_not_xml_fails_alone(world: World) -> None:
    world.customer("11")
    world.collect(debit(11))
    world.files.append(b"<Document><CstmrDrctDbtInitn>")

    report = world.pipeline().run()

    assert [r.record_id for r in report.booked] == ["MACHT-11"]
    assert len(report.failed) == 1


@pytest.fixture(params=["memory", "sqlite"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    store: StateStore = (
        MemoryStateStore() if request.param == "memory" else SQLiteStateStore(tmp_path / "s.db")
    )
    yield store
    store.close()


def test_a_lost_answer_on_the_mandate_leaves_exactly_one(
    world: World, any_store: StateStore
) -> None:
    world.store = any_store
    world.customer("11")
    world.collect(debit(11))
    world.fake.fail_next(Fault.LOST_RESPONSE, method="POST", path="cashflow/DirectDebitMandates")

    first = world.pipeline().run()

    [failed] = first.failed
    assert failed.reason is not None
    assert failed.reason.startswith("outcome unknown")
    assert world.record("MACHT-11").status is BookingStatus.PENDING
    world.fake.clear_calls()

    second = world.pipeline().run()

    assert world.writes() == 0
    assert second.unchanged == 1
    [mandate] = world.mandates().values()
    assert world.record("MACHT-11").status is BookingStatus.BOOKED
    assert world.record("MACHT-11").exact_id == str(mandate.id)


def test_a_lost_answer_on_the_bank_account_never_duplicates_it(world: World) -> None:
    ann = world.customer("11")
    world.collect(debit(11))
    world.fake.fail_next(Fault.LOST_RESPONSE, method="POST", path="crm/BankAccounts")

    first = world.pipeline().run()

    assert first.failed[0].reason is not None
    assert first.failed[0].reason.startswith("outcome unknown")
    assert len(world.bank_accounts(ann)) == 1
    assert world.mandates() == {}

    second = world.pipeline().run()

    assert [r.record_id for r in second.booked] == ["MACHT-11"]
    [bank] = world.bank_accounts(ann)
    assert world.mandates()["MACHT-11"].bank_account == bank.id


def test_the_daily_limit_stops_the_run(world: World) -> None:
    world.customer("11")
    world.customer("12")
    world.collect(debit(11), debit(12))
    world.fake.daily_limit = world.fake.rate_limit_used(DIVISION)[1] + 3

    report = world.pipeline().run()

    assert report.status is RunStatus.STOPPED
    assert "daily limit" in report.notes
    assert report.booked == ()
    world.clock.advance(24 * 3600)
    world.fake.daily_limit = 5000

    resumed = world.pipeline().run()

    assert sorted(r.record_id for r in resumed.booked) == ["MACHT-11", "MACHT-12"]
    assert len(world.mandates()) == 2


# -- changes ------------------------------------------------------------------------------


def test_first_then_recurrent_clears_first_send(world: World) -> None:
    world.customer("11")
    world.collect(debit(11, sequence="FRST"))
    world.pipeline().run()
    assert world.mandates()["MACHT-11"].first_send == 1
    world.files.clear()
    world.collect(debit(11, sequence="RCUR"))
    world.fake.clear_calls()

    report = world.pipeline().run()

    [row] = report.updated
    assert row.reason == "changed first_send"
    assert world.fake.count("PUT", "cashflow/DirectDebitMandates") == 1
    assert world.mandates()["MACHT-11"].first_send == 0
    world.fake.clear_calls()
    assert world.pipeline().run().exact_calls == 0


def test_a_new_iban_gets_its_bank_account_and_the_mandate_follows(world: World) -> None:
    ann = world.customer("11")
    world.collect(debit(11))
    world.pipeline().run()
    world.files.clear()
    world.collect(debit(11, iban=iban_for(9911)))

    report = world.pipeline().run()

    [row] = report.updated
    assert row.reason == "changed bank_account"
    banks = {bank.iban: bank.id for bank in world.bank_accounts(ann)}
    assert set(banks) == {iban_for(11), iban_for(9911)}
    assert world.mandates()["MACHT-11"].bank_account == banks[iban_for(9911)]


def test_a_new_holder_name_only_changes_nothing_in_exact(world: World) -> None:
    world.customer("11")
    world.collect(debit(11))
    world.pipeline().run()
    world.files.clear()
    world.collect(attrs.evolve(debit(11), debtor_name="Nieuwe Naam"))
    world.fake.clear_calls()

    report = world.pipeline().run()

    assert report.results == ()
    assert report.unchanged == 1
    assert world.writes() == 0
    world.fake.clear_calls()
    assert world.pipeline().run().exact_calls == 0


# -- dry run ------------------------------------------------------------------------------


def test_a_dry_run_writes_nothing(world: World) -> None:
    world.customer("11")
    world.collect(debit(11))
    writes = world.writes()

    preview = world.pipeline().preview()

    assert preview.dry_run
    [row] = preview.booked
    assert row.reason == "customer 11, bank account created"
    assert world.writes() == writes
    assert world.record("MACHT-11") is None
    assert world.store.recent_runs() == []
    assert world.mandates() == {}


# -- the source and helpers ---------------------------------------------------------------


def test_the_source_links_mandates_through_the_invoice_export(world: World, tmp_path: Path) -> None:
    csv = tmp_path / "facturen.csv"
    write_invoice_csv(
        csv,
        [
            SampleInvoice(
                number="F11",
                member_number="00011",
                member_name="Ann",
                invoice_date=dt.date(2026, 1, 5),
                lines=(SampleLine("Contributie", Decimal("25.00")),),
            )
        ],
    )
    xml = tmp_path / "incasso.xml"
    write_pain008(xml, [debit(11)])
    source = ClubassistentMandates([str(xml)], invoice_files=[str(csv)], tenant=TENANT)

    assert isinstance(source, MandateSource)
    batch = source.fetch(None)

    [mandate] = batch.mandates
    assert mandate.party_source_id == "00011"
    assert mandate.iban == iban_for(11)
    assert source.fetch_ids(["MACHT-11"]).mandates == batch.mandates
    assert source.fetch_ids(["other"]) == MandateBatch()


def test_bad_arguments_are_configuration_errors(world: World) -> None:
    with pytest.raises(ConfigurationError):
        ClubassistentMandates("incasso.xml", tenant=TENANT)
    with pytest.raises(ConfigurationError):
        ClubassistentMandates([], tenant=" ")
    with pytest.raises(ConfigurationError):
        MandatePipeline(object(), world.exact, world.config, world.store)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        world.pipeline(listing_threshold="many")


def test_sequence_types_map_to_first_send_and_payment_type() -> None:
    base = Mandate("clubassistent", "M-1", SIGNED, iban_for(1), "Ann")

    def fields(sequence: SequenceType) -> dict[str, int]:
        return mandate_fields(attrs.evolve(base, sequence_type=sequence))

    assert fields(SequenceType.FIRST) == {"first_send": 1, "payment_type": 0}
    assert fields(SequenceType.RECURRING) == {"first_send": 0, "payment_type": 0}
    assert fields(SequenceType.ONE_OFF) == {"first_send": 1, "payment_type": 1}
    assert fields(SequenceType.FINAL) == {"first_send": 0, "payment_type": 0}
    assert mandate_hash(base) != mandate_hash(attrs.evolve(base, iban=iban_for(2)))
