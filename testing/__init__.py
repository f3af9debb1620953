"""Test doubles at the wire, shared by tests/ and benchmarks/: a local HTTP server that speaks
Twilio's REST API (twilio_api.py) and a local SMTP server (smtp.py)."""
