"""Documents of a legal-aid application (法律援助法 Art 41–43): upload with type and size limits,
the type sniffed from the bytes, a SHA-256 checksum (the same bytes twice on a case are one
document), encrypted storage behind one interface, audited downloads, and the 一次性告知 checklist
that ticks off as documents arrive.

- `rules`: pure — accepted types, limits, what the bytes are, the checklist;
- `store`: the DocumentStore interface and its PostgreSQL implementation (encrypted chunks);
- `service`: the use cases (upload, list, open for download), in the caller's transaction;
- `api`: the routes (multipart in, metadata out, content streamed).
"""
