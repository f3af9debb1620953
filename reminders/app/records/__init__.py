"""What operators read and export about people and nights: stats, analytics, a person's
history and JSON record, the visit report, the FHIR export, the audit lines, private files.
"""
