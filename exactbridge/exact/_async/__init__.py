"""Asynchronous client shell: the source the synchronous one is generated from."""
