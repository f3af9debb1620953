"""FHIR R4 resources (checked against the R4B models of fhir.resources in the tests) built from
what the service records, as plain dicts: the export writes them as NDJSON lines, nothing
here does I/O or holds more than one resource.

Every reference is `Patient/<subscriber id>`, and the export writes that Patient, so references
resolve within it. Ids are the record's own (subscriber id, date, stream entry id): the same
record exported twice gets the same id, so a server's `$import` updates instead of duplicating.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from reminders.domain.foot_problems import Problem

Resource = dict[str, Any]

LOINC = "http://loinc.org"
SCORE_CODE = "72514-3"
SCORE_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
# LOINC 39106-0 "Temperature of Skin": one component per foot, the gap as a third.
SKIN_TEMPERATURE_CODE = "39106-0"
SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                      "code": "survey", "display": "Survey"}]}
VITAL = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                     "code": "vital-signs", "display": "Vital Signs"}]}
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
MEDIUM = {"sms": {"coding": [{"system": PARTICIPATION_MODE, "code": "WRITTEN",
                              "display": "written"}], "text": "SMS"},
          "email": {"coding": [{"system": PARTICIPATION_MODE, "code": "EMAILWRIT",
                                "display": "email"}], "text": "email"}}
# Consent actions of the audit log: opting in, and opting out (everything else there is an
# audit line, not consent).
PERMIT = frozenset({"subscribed", "confirmed", "opted_in"})
DENY = frozenset({"opted_out", "unsubscribed"})
CONSENT_SCOPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                             "code": "patient-privacy", "display": "Privacy Consent"}]}
CONSENT_CATEGORY = [{"coding": [{"system": LOINC, "code": "59284-0",
                                 "display": "Patient Consent"}]}]
FLAG_CATEGORY = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                              "code": "clinical", "display": "Clinical"}]}]


def reference(subscriber_id: str) -> dict[str, str]:
    return {"reference": f"Patient/{safe_id(subscriber_id)}"}


_NOT_IN_ID = re.compile(r"[^A-Za-z0-9.\-]")


def safe_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from our own ids and dates (ASCII only: a letter
    outside it becomes "-")."""
    return _NOT_IN_ID.sub("-", text)[:64]


def patient(subscriber_id: str, phone: str | None, email: str | None, name: str,
            language: str) -> Resource:
    identifiers, telecom = [], []
    if phone:
        identifiers.append({"use": "usual", "system": "urn:ietf:rfc:3966", "value": f"tel:{phone}"})
        telecom.append({"system": "sms", "value": phone, "use": "mobile"})
    if email:
        identifiers.append({"use": "secondary", "system": "urn:ietf:rfc:3986",
                            "value": f"mailto:{email}"})
        telecom.append({"system": "email", "value": email})
    found: Resource = {"resourceType": "Patient", "id": safe_id(subscriber_id),
                       "identifier": identifiers, "telecom": telecom,
                       "communication": [{"language": {"coding": [
                           {"system": "urn:ietf:bcp:47", "code": language}]},
                           "preferred": True}]}
    if name:
        found["name"] = [{"text": name}]
    return found


def score(subscriber_id: str, day: date, at: datetime, value: int) -> Resource:
    """The evening's 0-10 score; `at` is that evening's reminder time in the person's zone
    (the reply's own minute is not kept), written with its offset."""
    return {"resourceType": "Observation", "id": safe_id(f"score-{subscriber_id}-{day}"),
            "status": "final", "category": [SURVEY],
            "code": {"coding": [{"system": LOINC, "code": SCORE_CODE, "display": SCORE_DISPLAY}],
                     "text": "Symptom score, 0 to 10"},
            "subject": reference(subscriber_id), "effectiveDateTime": at.isoformat(),
            "valueInteger": value}


def temperatures(subscriber_id: str, day: date, at: datetime, left_c: float,
                 right_c: float) -> Resource:
    """One evening's TEMP pair (left and right soles, degrees Celsius) and their gap."""
    def component(text: str, value: float) -> Resource:
        return {"code": {"text": text},
                "valueQuantity": {"value": round(value, 1), "unit": "Cel",
                                  "system": "http://unitsofmeasure.org", "code": "Cel"}}

    return {"resourceType": "Observation", "id": safe_id(f"temp-{subscriber_id}-{day}"),
            "status": "final", "category": [VITAL],
            "code": {"coding": [{"system": LOINC, "code": SKIN_TEMPERATURE_CODE,
                                 "display": "Temperature of Skin"}],
                     "text": "Sole temperatures, left and right"},
            "subject": reference(subscriber_id), "effectiveDateTime": at.isoformat(),
            "component": [component("Left sole", left_c), component("Right sole", right_c),
                          component("Difference", abs(left_c - right_c))]}


def flag(problem: Problem) -> Resource:
    period = {k: v for k, v in (("start", problem.at), ("end", problem.closed_at)) if v}
    found: Resource = {
        "resourceType": "Flag",
        "id": safe_id(f"flag-{problem.subscriber}-{problem.at or problem.closed_at}"),
        "status": "active" if problem.is_open else "inactive", "category": FLAG_CATEGORY,
        "code": {"text": problem.category}, "subject": reference(problem.subscriber)}
    if period:
        found["period"] = period
    return found


def sent(subscriber_id: str, day: date, channel: str, medium: str, state: str,
         at: datetime) -> Resource:
    """A message we sent (or meant to: `state` failed, missed or skipped is `not-done`)."""
    found: Resource = {
        "resourceType": "Communication", "id": safe_id(f"out-{subscriber_id}-{day}-{channel}"),
        "status": "completed" if state == "sent" else "not-done",
        "category": [{"text": "weekly summary" if channel.startswith("weekly")
                      else "evening reminder"}],
        "medium": [MEDIUM[medium]], "subject": reference(subscriber_id),
        "recipient": [reference(subscriber_id)], "sent": at.isoformat()}
    if state != "sent":
        found["statusReason"] = {"text": state}
    return found


def received(subscriber_id: str, entry_id: str, medium: str, at: str, text: str | None
             ) -> Resource:
    """A message the person sent us; its words only when the export asks (`--with-text`)."""
    found: Resource = {
        "resourceType": "Communication", "id": safe_id(f"in-{entry_id}"), "status": "completed",
        "medium": [MEDIUM.get(medium, MEDIUM["sms"])], "subject": reference(subscriber_id),
        "sender": reference(subscriber_id), "received": at}
    if text is not None:
        found["payload"] = [{"contentString": text}]
    return found


def consent(subscriber_id: str, entry_id: str, channel: str, action: str, source: str,
            at: str) -> Resource | None:
    """An opt-in or opt-out; None for an audit line that is not one."""
    if action not in PERMIT | DENY:
        return None
    return {"resourceType": "Consent", "id": safe_id(f"consent-{entry_id}"), "status": "active",
            "scope": CONSENT_SCOPE, "category": CONSENT_CATEGORY,
            "patient": reference(subscriber_id), "dateTime": at,
            "policyRule": {"text": f"{channel} reminders: {action} ({source})"},
            "provision": {"type": "permit" if action in PERMIT else "deny",
                          "period": {"start": at},
                          "action": [{"text": f"{channel} reminders"}]}}
