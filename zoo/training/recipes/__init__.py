"""The recipes, one module per kind of training (see ``zoo.training``)."""

from zoo.training.recipes.bert_mlm import BERT_MLM
from zoo.training.recipes.bert_sentiment import BERT_SENTIMENT, BERT_SENTIMENT_SCRATCH
from zoo.training.recipes.char_lm import GPT_SHAKESPEARE_CHAR, LSTM_SHAKESPEARE_CHAR
from zoo.training.recipes.seq2seq_multi30k import SEQ2SEQ_MULTI30K

RECIPES = {
    recipe.name: recipe
    for recipe in (
        GPT_SHAKESPEARE_CHAR,
        LSTM_SHAKESPEARE_CHAR,
        BERT_MLM,
        BERT_SENTIMENT,
        BERT_SENTIMENT_SCRATCH,
        SEQ2SEQ_MULTI30K,
    )
}
