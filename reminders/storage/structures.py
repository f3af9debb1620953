"""What app/ reaches Redis through: each owning module's functions bound to the one client
(bound.py), as attributes of the Store that wiring builds once (`store.nights.note(...)`).

The modules stay the owners (their functions take the client first, so storage code can queue
them on a pipeline); these classes only list what app/ may call, typed as the functions are.
Each is built on first use and kept (cheap: a partial per function, made once).
"""

from __future__ import annotations

from reminders.storage import (
    capacity_check,
    caregivers,
    consent_log,
    conversation,
    counters,
    due_index,
    engagement,
    heard,
    imports,
    inbox,
    inflight,
    ledgers,
    limits,
    message_index,
    names,
    night_stats,
    nights,
    operators,
    overview,
    reconfirm,
    review,
    send_claims,
    sends,
    suppression,
    tally,
    temps,
    unreachable,
    voice_callers,
)
from reminders.storage import flags as reports
from reminders.storage.bound import Bound, bind, part
from reminders.storage.client import Client


class Nights(Bound):
    read, read_many, notes = bind(nights.read), bind(nights.read_many), bind(nights.notes)
    note, settle, finish = bind(nights.note), bind(nights.settle), bind(nights.finish)
    give_up, record_missed = bind(nights.give_up), bind(nights.record_missed)
    of_subscriber, advance_status = bind(nights.of_subscriber), bind(nights.advance_status)
    release_for_retry = bind(nights.release_for_retry)


class Reviews(Bound):
    open_item, take, close = bind(review.open_item), bind(review.take), bind(review.close)
    get, get_many, ids_of = bind(review.get), bind(review.get_many), bind(review.ids_of)
    open_ids, closed_ids = bind(review.open_ids), bind(review.closed_ids)
    open_slots, open_levels = bind(review.open_slots), bind(review.open_levels)
    schedule_escalation = bind(review.schedule_escalation)
    due_escalations = bind(review.due_escalations)


class Counters(Bound):
    incr, read, read_all = bind(counters.incr), bind(counters.read), bind(counters.read_all)
    record_lag = bind(counters.record_lag)


class Conversation(Bound):
    add, read = bind(conversation.add), bind(conversation.read)


class Limits(Bound):
    count_reply, claim_confirmation = bind(limits.count_reply), bind(limits.claim_confirmation)
    claim_inbox, release_inbox = bind(limits.claim_inbox), bind(limits.release_inbox)


class Suppression(Bound):
    add, remove = bind(suppression.add), bind(suppression.remove)


class Heard(Bound):
    mark, last = bind(heard.mark), bind(heard.last)


class Sends(Bound):
    read, state, advance_status = bind(sends.read), bind(sends.state), bind(sends.advance_status)


class SendClaims(Bound):
    claim, finish = bind(send_claims.claim), bind(send_claims.finish)
    release, state = bind(send_claims.release), bind(send_claims.state)


class Caregivers(Bound):
    read, link, unlink = bind(caregivers.read), bind(caregivers.link), bind(caregivers.unlink)
    set_consent, cared_for_by = bind(caregivers.set_consent), bind(caregivers.cared_for_by)
    caregiver_phone = bind(caregivers.caregiver_phone)
    advance_text_status = bind(caregivers.advance_text_status)


class ConsentLog(Bound):
    record, export = bind(consent_log.record), bind(consent_log.export)
    record_unindexed, history = bind(consent_log.record_unindexed), bind(consent_log.history)


class Temps(Bound):
    read, save = bind(temps.read), bind(temps.save)


class Reports(Bound):
    """Open foot-problem reports (storage/flags.py)."""

    add, read, open_ids = bind(reports.add), bind(reports.read), bind(reports.open_ids)
    remove = bind(reports.remove)


class Inbox(Bound):
    add, export, forget = bind(inbox.add), bind(inbox.export), bind(inbox.forget)


class Due(Bound):
    """The due index (storage/due_index.py)."""

    claim, claimed, finish = bind(due_index.claim), bind(due_index.claimed), bind(due_index.finish)
    due_before, size = bind(due_index.due_before), bind(due_index.size)
    count_by_minute = bind(due_index.count_by_minute)


class Inflight(Bound):
    mark, size, sweep = bind(inflight.mark), bind(inflight.size), bind(inflight.sweep)


class Unreachable(Bound):
    add, remove = bind(unreachable.add), bind(unreachable.remove)
    read_all = bind(unreachable.read_all)


class Names(Bound):
    count, page = bind(names.count), bind(names.page)


class Tally(Bound):
    read, rebuild, paused_on = bind(tally.read), bind(tally.rebuild), bind(tally.paused_on)
    stop_words = bind(tally.stop_words)


class NightStats(Bound):
    read = bind(night_stats.read)


class Engagement(Bound):
    read, recount = bind(engagement.read), bind(engagement.recount)


class CapacityCheck(Bound):
    store, store_load = bind(capacity_check.store), bind(capacity_check.store_load)
    last_load, claim_refresh = bind(capacity_check.last_load), bind(capacity_check.claim_refresh)


class Operators(Bound):
    """Console accounts, sessions and failed logins (storage/operators.py)."""

    get, put, remove = bind(operators.get), bind(operators.put), bind(operators.remove)
    all_records, session = bind(operators.all_records), bind(operators.session)
    open_session, close_session = bind(operators.open_session), bind(operators.close_session)
    count_attempt, uncount_address = bind(operators.count_attempt), bind(operators.uncount_address)
    forget_failures = bind(operators.forget_failures)


class Imports(Bound):
    create, claim, get = bind(imports.create), bind(imports.claim), bind(imports.get)
    append_file, read_file = bind(imports.append_file), bind(imports.read_file)
    update, finish = bind(imports.update), bind(imports.finish)
    progress, pending = bind(imports.progress), bind(imports.pending)
    errors, recent = bind(imports.errors), bind(imports.recent)


class MessageIndex(Bound):
    target = bind(message_index.target)


class VoiceCallers(Bound):
    next_instants = bind(voice_callers.next_instants)


class Reconfirm(Bound):
    claim, release, mark = bind(reconfirm.claim), bind(reconfirm.release), bind(reconfirm.mark)
    settle, read, asked = bind(reconfirm.settle), bind(reconfirm.read), bind(reconfirm.asked)


class Overviews(Bound):
    read = bind(overview.read)


class Ledgers(Bound):
    """The send ledgers (storage/ledgers.py), each made on this client."""

    night, care, sends = (bind(ledgers.NightLedger), bind(ledgers.CareLedger),
                          bind(ledgers.SendsLedger))


class Structures:
    """The bound objects, one per owning module (mixed into subscribers.Store)."""

    redis: Client

    nights = part(Nights)
    review = part(Reviews)
    counters = part(Counters)
    conversation = part(Conversation)
    limits = part(Limits)
    suppression = part(Suppression)
    heard = part(Heard)
    sends = part(Sends)
    send_claims = part(SendClaims)
    caregivers = part(Caregivers)
    consent_log = part(ConsentLog)
    temps = part(Temps)
    reports = part(Reports)
    inbox = part(Inbox)
    due = part(Due)
    inflight = part(Inflight)
    unreachable = part(Unreachable)
    names = part(Names)
    tally = part(Tally)
    night_stats = part(NightStats)
    engagement = part(Engagement)
    capacity_check = part(CapacityCheck)
    ledgers = part(Ledgers)
    overview = part(Overviews)
    operators = part(Operators)
    imports = part(Imports)
    message_index = part(MessageIndex)
    voice_callers = part(VoiceCallers)
    reconfirm = part(Reconfirm)
