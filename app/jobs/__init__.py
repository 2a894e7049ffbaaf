"""RQ plumbing: named queues, enqueue after commit, inline fallback when Redis is unreachable."""
