"""The four model families, one file each."""

from zoo.models.bert import Bert, BertClassifier, BertConfig, BertMaskedLM, BertTokenClassifier
from zoo.models.gpt import Gpt, GptConfig
from zoo.models.lstm_lm import LstmLM, LstmLMConfig
from zoo.models.seq2seq import Seq2Seq, Seq2SeqConfig

FAMILIES = {"bert": Bert, "gpt": Gpt, "lstm_lm": LstmLM, "seq2seq": Seq2Seq}
