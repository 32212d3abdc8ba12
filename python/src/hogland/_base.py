"""The base class of every response model.

Models keep fields they do not know (``extra="allow"``), so an older SDK
keeps working against a newer hogplane that has added fields.
"""

from pydantic import BaseModel, ConfigDict


class HoglandModel(BaseModel):
    """Base of the generated and hand-written models."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
