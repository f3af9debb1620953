"""What keeps consent and sending rules true over time: the yearly re-confirmation, the
consent export for an audit, people outside their send window (window-apply).
"""
