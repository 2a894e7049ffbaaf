"""Security regression suite (issue «Hardening»): every control that an attacker or a fault would test."""
