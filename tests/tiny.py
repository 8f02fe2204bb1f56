"""Tiny random models of the real architectures, built offline in milliseconds.

Each builder trains a small tokenizer on CORPUS with the `tokenizers` library, builds the
model from a small config with eager attention, and saves both with save_pretrained into
`folder`, so tests load them through the registry's local-folder source exactly as users'
models are loaded. Used by unit tests everywhere (tests/conftest.py exposes them as fixtures).
"""
from __future__ import annotations

from pathlib import Path

import torch

CORPUS = [
    "the cat sat on the mat", "a dog ran in the park", "paris is the capital of france",
    "the quick brown fox jumps over the lazy dog", "attention is all you need",
    "language models predict the next token", "berlin is the capital of germany",
    "students learn how transformers work", "the weather is nice today",
    "i love this movie", "this film was terrible", "what a wonderful day",
    "hello world", "machine translation turns english into german",
] * 3


def _wordpiece_vocab(size: int = 300) -> list[str]:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=size, special_tokens=[
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(CORPUS, trainer)
    vocab = tok.get_vocab()
    return sorted(vocab, key=vocab.get)


def _bpe(size: int = 300) -> tuple[dict, list]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    import json
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return model["vocab"], merges


def _unigram(size: int = 200) -> list[tuple[str, float]]:
    from tokenizers import SentencePieceUnigramTokenizer
    tok = SentencePieceUnigramTokenizer()
    tok.train_from_iterator(CORPUS, vocab_size=size, special_tokens=["<pad>", "</s>", "<unk>"],
                            unk_token="<unk>")
    import json
    return [tuple(x) for x in json.loads(tok.to_str())["model"]["vocab"]]


def _bert_tokenizer():
    from transformers import BertTokenizer
    vocab = {w: i for i, w in enumerate(_wordpiece_vocab())}
    return BertTokenizer(vocab=vocab)


def _gpt2_tokenizer():
    from transformers import GPT2Tokenizer
    vocab, merges = _bpe()
    tok = GPT2Tokenizer(vocab=vocab, merges=merges)
    tok.pad_token = tok.eos_token
    return tok


def _save(model, tokenizer, folder) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_bert(folder, layers: int = 2, heads: int = 4, head: str = "base", num_labels: int = 2) -> Path:
    """BERT encoder. head: base | classification | masked-lm | qa."""
    from transformers import (BertConfig, BertForMaskedLM, BertForQuestionAnswering,
                              BertForSequenceClassification, BertModel)
    torch.manual_seed(0)
    tok = _bert_tokenizer()
    cfg = BertConfig(vocab_size=len(tok), hidden_size=8 * heads,
                     num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=64,
                     max_position_embeddings=128, num_labels=num_labels)
    cls = {"base": BertModel, "classification": BertForSequenceClassification,
           "masked-lm": BertForMaskedLM, "qa": BertForQuestionAnswering}[head]
    return _save(cls._from_config(cfg, attn_implementation="eager"), tok, folder)


def make_llama(folder, layers: int = 2, heads: int = 4, kv_heads: int = 2, chat: bool = True) -> Path:
    """Llama decoder with grouped-query attention and rotary positions (like SmolLM2)."""
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    tok = _gpt2_tokenizer()
    if chat:
        tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
                             "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>"
                             "assistant\n{% endif %}")
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                      num_hidden_layers=layers, num_attention_heads=heads,
                      num_key_value_heads=kv_heads, max_position_embeddings=128,
                      bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.eos_token_id, tie_word_embeddings=True)
    return _save(LlamaForCausalLM._from_config(cfg, attn_implementation="eager"), tok, folder)


def make_gpt2(folder, layers: int = 2, heads: int = 4) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(0)
    tok = _gpt2_tokenizer()
    cfg = GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=layers, n_head=heads,
                     n_positions=128, bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    return _save(GPT2LMHeadModel._from_config(cfg, attn_implementation="eager"), tok, folder)


def make_t5(folder, layers: int = 2, heads: int = 4) -> Path:
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer
    torch.manual_seed(0)
    tok = T5Tokenizer(vocab=_unigram(), extra_ids=0)
    cfg = T5Config(vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=layers,
                   num_decoder_layers=layers, num_heads=heads, decoder_start_token_id=tok.pad_token_id,
                   pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    return _save(T5ForConditionalGeneration._from_config(cfg, attn_implementation="eager"), tok, folder)


def make_bart(folder, layers: int = 2, heads: int = 4) -> Path:
    from transformers import BartConfig, BartForConditionalGeneration
    torch.manual_seed(0)
    tok = _gpt2_tokenizer()
    cfg = BartConfig(vocab_size=len(tok), d_model=32, encoder_layers=layers, decoder_layers=layers,
                     encoder_attention_heads=heads, decoder_attention_heads=heads,
                     encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
                     pad_token_id=tok.pad_token_id, bos_token_id=tok.eos_token_id,
                     eos_token_id=tok.eos_token_id, decoder_start_token_id=tok.eos_token_id,
                     forced_bos_token_id=None)
    return _save(BartForConditionalGeneration._from_config(cfg, attn_implementation="eager"), tok, folder)


def make_marian(folder, layers: int = 2, heads: int = 4) -> Path:
    """Marian (opus-mt) translator. Its real tokenizer needs sentencepiece model files, so this
    one uses a T5-style unigram tokenizer with the same special tokens: enough to drive the
    seq2seq runner paths."""
    from transformers import MarianConfig, MarianMTModel, T5Tokenizer
    torch.manual_seed(0)
    tok = T5Tokenizer(vocab=_unigram(), extra_ids=0)
    cfg = MarianConfig(vocab_size=len(tok), d_model=32, encoder_layers=layers, decoder_layers=layers,
                       encoder_attention_heads=heads, decoder_attention_heads=heads,
                       encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
                       pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                       decoder_start_token_id=tok.pad_token_id)
    return _save(MarianMTModel._from_config(cfg, attn_implementation="eager"), tok, folder)


def make_distilbert_qa(folder, layers: int = 2, heads: int = 4) -> Path:
    from transformers import DistilBertConfig, DistilBertForQuestionAnswering
    torch.manual_seed(0)
    tok = _bert_tokenizer()
    cfg = DistilBertConfig(vocab_size=len(tok), dim=32, n_layers=layers, n_heads=heads,
                           hidden_dim=64, max_position_embeddings=128)
    return _save(DistilBertForQuestionAnswering._from_config(cfg, attn_implementation="eager"), tok, folder)


BUILDERS = {"bert": make_bert, "llama": make_llama, "gpt2": make_gpt2, "t5": make_t5,
            "bart": make_bart, "marian": make_marian, "distilbert-qa": make_distilbert_qa}
