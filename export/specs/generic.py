"""The spec of any functional Keras model no family claims: the forward graph only.

Its inputs get the shared declarations by name (``export.specs.tensors``);
its outputs get generic axis names (``batch``, ``sequence``, ``axis_2``...).
No decoder, fusion, text signature or task metric; validation text from
rt-polarity.
"""

from export.specs import tensors
from export.specs.base import ExportSpec

GENERIC = ExportSpec(family="keras", inputs=tensors.EVERY_INPUT)
