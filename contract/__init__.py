"""The wire between the stateless functions and the session host.

Everything both halves must agree on lives here and nowhere else: RQ job names and
payloads, queue names, the per-agent live state and host registry kept in Redis, the
HMAC-signed events the host posts back, and the JID rules.
"""
