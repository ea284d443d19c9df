// STUB: replaced by the tokenizer work
