"""Knowledge bases: parse Korean documents, chunk them, search them (BM25 + dense), cite sources."""
