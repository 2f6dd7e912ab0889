"""BERT: a bidirectional transformer encoder, and its task heads.

Backbone: token + position + segment embeddings -> LayerNorm -> dropout ->
post-LN encoder blocks -> ``sequence_output``; ``pooled_output`` is a tanh
Dense over the first ([CLS]) position. Heads wrap a backbone:
``BertMaskedLM`` (tied to the token embedding), ``BertClassifier`` (one label
per sequence) and ``BertTokenClassifier`` (one label per token).
"""

import dataclasses

import keras
from keras import ops

from zoo.layers import LayerNorm, MaskedLMHead, TokenAndPositionEmbedding, TransformerEncoderBlock
from zoo.layers.initializers import clone_initializer
from zoo.models.base import ConfigError, ZooModel, check_positive, config_from_kwargs
from zoo.models.transformer_config import TransformerConfig


@dataclasses.dataclass
class BertConfig(TransformerConfig):
    """Sizes and options of a BERT. Defaults are BERT-base (110M)."""

    vocabulary_size: int = 30522
    num_layers: int = 12
    num_heads: int = 12
    hidden_dim: int = 768
    intermediate_dim: int = 3072
    max_sequence_length: int = 512
    activation: str = "gelu"
    layer_norm_epsilon: float = 1e-12
    num_segments: int = 2

    def validate(self):
        super().validate()
        check_positive(self, "num_segments")


@keras.saving.register_keras_serializable(package="zoo")
class Bert(ZooModel):
    """BERT backbone.

    Inputs ``{"token_ids", "segment_ids", "padding_mask"}`` (segment ids and
    padding mask may be omitted: zeros and ones); outputs
    ``{"sequence_output": (B, T, D), "pooled_output": (B, D)}``.
    """

    config_class = BertConfig
    token_inputs = {"token_ids": "vocabulary_size", "segment_ids": "num_segments"}
    mask_inputs = {"padding_mask": "token_ids"}
    optional_inputs = {"segment_ids": "token_ids"}

    def __init__(self, dtype=None, **kwargs):
        config = config_from_kwargs(BertConfig, kwargs)
        init = keras.initializers.TruncatedNormal(stddev=0.02)

        # === Layers ===
        embeddings = TokenAndPositionEmbedding(
            config.vocabulary_size,
            config.max_sequence_length,
            config.hidden_dim,
            num_segments=config.num_segments,
            initializer=init,
            dtype=dtype,
            name="embeddings",
        )
        embeddings_norm = LayerNorm(
            epsilon=config.layer_norm_epsilon, dtype=dtype, name="embeddings_norm"
        )
        embeddings_dropout = keras.layers.Dropout(config.dropout, dtype=dtype, name="embeddings_dropout")
        blocks = [
            TransformerEncoderBlock(
                config.num_heads,
                config.intermediate_dim,
                dropout=config.dropout,
                activation=config.activation,
                layer_norm_epsilon=config.layer_norm_epsilon,
                use_xla=config.use_xla_attention,
                kernel_initializer=init,
                dtype=dtype,
                name=f"block_{i}",
            )
            for i in range(config.num_layers)
        ]
        pooler = keras.layers.Dense(
            config.hidden_dim, activation="tanh", kernel_initializer=clone_initializer(init), dtype=dtype, name="pooler"
        )

        # === Functional model ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        segment_ids = keras.Input((None,), dtype="int32", name="segment_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
        x = embeddings(token_ids, segment_ids=segment_ids)
        x = embeddings_dropout(embeddings_norm(x))
        for block in blocks:
            x = block(x, padding_mask=padding_mask)
        pooled = pooler(x[:, 0, :])
        super().__init__(
            inputs={"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask},
            outputs={"sequence_output": x, "pooled_output": pooled},
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.config = config
        self.embeddings = embeddings
        self.embeddings_norm = embeddings_norm
        self.blocks = blocks
        self.pooler = pooler

    @property
    def token_embedding(self):
        return self.embeddings.token_embedding


class BertTask(ZooModel):
    """A head on a ``Bert`` backbone; serializes the backbone inside its config."""

    token_inputs = Bert.token_inputs
    mask_inputs = Bert.mask_inputs
    optional_inputs = Bert.optional_inputs

    def _init_task(self, backbone):
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        if not isinstance(backbone, Bert):
            raise ConfigError(f"{type(self).__name__} needs a zoo Bert backbone, got {type(backbone).__name__}.")
        inputs = {
            name: keras.Input((None,), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        return backbone, inputs, backbone(inputs)

    @property
    def config(self):
        return self.backbone.config

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            **self.task_config(),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="zoo")
class BertMaskedLM(BertTask):
    """Masked-LM pretraining head: adds input ``mask_positions`` (B, P) and
    returns float32 logits (B, P, vocabulary_size) at those positions.

    Args:
        backbone: a zoo ``Bert``.
        head_activation, head_layer_norm_epsilon: the head's transform
            activation and LayerNorm epsilon; None takes the backbone's (as
            BERT and Hugging Face's BertForMaskedLM do). keras-hub's
            BertMaskedLM sets its own (exact ``"gelu"``, 1e-5).
    """

    def __init__(self, backbone, head_activation=None, head_layer_norm_epsilon=None, **kwargs):
        backbone, inputs, outputs = self._init_task(backbone)
        self.head_activation = head_activation
        self.head_layer_norm_epsilon = None if head_layer_norm_epsilon is None else float(head_layer_norm_epsilon)
        mask_positions = keras.Input((None,), dtype="int32", name="mask_positions")
        head = MaskedLMHead(
            backbone.token_embedding,
            activation=backbone.config.activation if head_activation is None else head_activation,
            layer_norm_epsilon=(backbone.config.layer_norm_epsilon if head_layer_norm_epsilon is None
                                else head_layer_norm_epsilon),
            dtype=backbone.dtype_policy,
            name="masked_lm_head",
        )
        logits = head(outputs["sequence_output"], mask_positions)
        super().__init__(inputs={**inputs, "mask_positions": mask_positions}, outputs=logits, **kwargs)
        self.backbone = backbone
        self.masked_lm_head = head

    def task_config(self):
        return {"head_activation": self.head_activation, "head_layer_norm_epsilon": self.head_layer_norm_epsilon}

    def _standardize(self, inputs):
        if not isinstance(inputs, dict) or "mask_positions" not in inputs:
            raise ValueError(
                "BertMaskedLM takes a dict with 'token_ids' and 'mask_positions' "
                "(the positions whose tokens to predict), plus optional 'segment_ids' and 'padding_mask'."
            )
        inputs = dict(inputs)
        mask_positions = inputs.pop("mask_positions")
        standardized = super()._standardize(inputs)
        standardized["mask_positions"] = ops.convert_to_tensor(mask_positions, "int32")
        return standardized

    @property
    def input_names(self):
        return ["token_ids", "segment_ids", "padding_mask"]


class _BertClassifierBase(BertTask):
    """Dropout -> Dense(num_classes) on the features ``_features`` picks from the backbone's outputs."""

    def __init__(self, backbone, num_classes=2, dropout=0.1, **kwargs):
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
            raise ConfigError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
        backbone, inputs, outputs = self._init_task(backbone)
        dtype = backbone.dtype_policy
        features = self._features(backbone, inputs, outputs)
        x = keras.layers.Dropout(dropout, dtype=dtype, name="classifier_dropout")(features)
        logits = keras.layers.Dense(num_classes, dtype=dtype, name="classifier")(x)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout = float(dropout)

    def _features(self, backbone, inputs, outputs):
        raise NotImplementedError

    def task_config(self):
        return {"num_classes": self.num_classes, "dropout": self.dropout}


POOLINGS = ("cls", "mean")


@keras.saving.register_keras_serializable(package="zoo")
class BertClassifier(_BertClassifierBase):
    """Sequence classification: a sentence vector -> dropout -> Dense(num_classes) logits (B, classes).

    Args:
        backbone: a zoo ``Bert``.
        num_classes: number of classes (>= 2).
        dropout: dropout rate before the classifier.
        pooling: the sentence vector. ``"cls"``: the backbone's pooler over [CLS]
            (BERT's and transformers' ``BertForSequenceClassification`` head).
            ``"mean"``: the mean of the token vectors, padding excluded (the pooling
            sentence-transformers models such as all-MiniLM-L6-v2 were trained
            with); the backbone's pooler then feeds nothing and is frozen, and
            neither transformers nor keras-hub has a class for this head.
    """

    def __init__(self, backbone, num_classes=2, dropout=0.1, pooling="cls", **kwargs):
        if pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
        self.pooling = pooling
        super().__init__(backbone, num_classes=num_classes, dropout=dropout, **kwargs)

    def _features(self, backbone, inputs, outputs):
        if self.pooling == "cls":
            return outputs["pooled_output"]
        backbone.pooler.trainable = False  # feeds nothing: no updates, no missing-gradient warning
        mask = ops.cast(inputs["padding_mask"], "bool")
        return keras.layers.GlobalAveragePooling1D(dtype=backbone.dtype_policy, name="mean_pooling")(
            outputs["sequence_output"], mask=mask)

    def task_config(self):
        return {**super().task_config(), "pooling": self.pooling}


@keras.saving.register_keras_serializable(package="zoo")
class BertTokenClassifier(_BertClassifierBase):
    """Token classification (tagging): sequence output -> dropout -> Dense(num_classes) (B, T, classes)."""

    def _features(self, backbone, inputs, outputs):
        return outputs["sequence_output"]
