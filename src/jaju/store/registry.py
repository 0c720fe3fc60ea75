"""Every module that defines tables, imported explicitly so the metadata is complete."""

from jaju.store import tables  # noqa: F401  (registers foundation tables on Base)
from jaju.compliance import tables as compliance_tables  # noqa: F401
from jaju.batches import tables as batch_tables  # noqa: F401
from jaju.conversations import tables as conversation_tables  # noqa: F401
from jaju.files import tables as file_tables  # noqa: F401
from jaju.knowledge import tables as knowledge_tables  # noqa: F401
from jaju.privacy import tables as privacy_tables  # noqa: F401
from jaju.responses import tables as response_tables  # noqa: F401
from jaju.sovereignty import tables as sovereignty_tables  # noqa: F401
from jaju.store.base import Base

metadata = Base.metadata
