// Tokenizer algorithms on small hand-made vocabularies: SentencePiece score
// merging and byte fallback, BPE merge ranks, special tokens, and what
// Vocab::build accepts, repairs and rejects.

#include <gtest/gtest.h>

#include <cstdio>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace sieve::tokenizer {
namespace {

const std::string kSpace = "\xE2\x96\x81";  // "▁"

// <unk> <s> </s> <0x00>..<0xFF> then `extra` with their scores.
VocabSpec spm_spec(const std::vector<std::pair<std::string, float>>& extra, bool with_bytes = true) {
  VocabSpec spec;
  spec.model = VocabModel::Spm;
  spec.tokens = {"<unk>", "<s>", "</s>"};
  spec.token_types = {2, 3, 3};
  if (with_bytes) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      spec.tokens.push_back(name);
      spec.token_types.push_back(6);
    }
  }
  spec.scores.assign(spec.tokens.size(), 0.0f);
  for (const auto& [text, score] : extra) {
    spec.tokens.push_back(text);
    spec.scores.push_back(score);
    spec.token_types.push_back(1);
  }
  return spec;
}

std::vector<std::string> texts(const Tokenizer& t, const std::vector<TokenId>& ids) {
  std::vector<std::string> out;
  for (const TokenId id : ids) out.push_back(t.vocab().text(id));
  return out;
}

using Texts = std::vector<std::string>;

TEST(SpmTokenizer, MergesTheHighestScoringPairFirst) {
  const Tokenizer ab_first(Vocab::build(spm_spec({{kSpace, -5}, {"a", -5}, {"b", -5}, {"c", -5},
                                                  {"ab", -1}, {"bc", -2}, {kSpace + "a", -3}, {"abc", -0.5}})));
  EXPECT_EQ(texts(ab_first, ab_first.tokenize("abc")), (Texts{kSpace, "abc"}));
  // Once "bc" is made, "abc" (from a + bc) outranks "▁a".
  const Tokenizer bc_first(Vocab::build(spm_spec({{kSpace, -5}, {"a", -5}, {"b", -5}, {"c", -5},
                                                  {"ab", -2}, {"bc", -1}, {kSpace + "a", -3}, {"abc", -0.5}})));
  EXPECT_EQ(texts(bc_first, bc_first.tokenize("abc")), (Texts{kSpace, "abc"}));
  const Tokenizer no_abc(Vocab::build(spm_spec({{kSpace, -5}, {"a", -5}, {"b", -5}, {"c", -5},
                                                {"ab", -2}, {"bc", -1}, {kSpace + "a", -3}})));
  EXPECT_EQ(texts(no_abc, no_abc.tokenize("abc")), (Texts{kSpace + "a", "bc"}));
}

TEST(SpmTokenizer, EqualScoresMergeLeftmostFirst) {
  const Tokenizer t(Vocab::build(spm_spec({{kSpace, -5}, {"a", -5}, {"aa", -1}})));
  EXPECT_EQ(texts(t, t.tokenize("aaa")), (Texts{kSpace, "aa", "a"}));
}

TEST(SpmTokenizer, SpacesBecomeMarkersAndTheTextGetsALeadingOne) {
  const Tokenizer t(Vocab::build(spm_spec({{kSpace, -5}, {"a", -5}, {kSpace + "a", -1}})));
  EXPECT_EQ(texts(t, t.tokenize("a a")), (Texts{kSpace + "a", kSpace + "a"}));
  EXPECT_EQ(texts(t, t.tokenize(" a")), (Texts{kSpace, kSpace + "a"}));
  EXPECT_EQ(t.detokenize(t.tokenize("a a")), "a a");
  EXPECT_EQ(t.detokenize(t.tokenize(" a")), " a");
}

TEST(SpmTokenizer, AddSpacePrefixCanBeTurnedOff) {
  VocabSpec spec = spm_spec({{kSpace, -5}, {"a", -5}, {kSpace + "a", -1}});
  spec.add_space_prefix = false;
  const Tokenizer t(Vocab::build(spec));
  EXPECT_EQ(texts(t, t.tokenize("a a")), (Texts{"a", kSpace + "a"}));
  EXPECT_EQ(t.detokenize(t.tokenize("a a")), "a a");
}

TEST(SpmTokenizer, UnknownCharactersFallBackToBytes) {
  const Tokenizer t(Vocab::build(spm_spec({{kSpace, -5}, {"a", -5}})));
  EXPECT_EQ(texts(t, t.tokenize("\xC3\xA9")), (Texts{kSpace, "<0xC3>", "<0xA9>"}));
  EXPECT_EQ(t.detokenize(t.tokenize("a\xC3\xA9\xFF")), "a\xC3\xA9\xFF");
}

TEST(SpmTokenizer, WithoutByteTokensUnknownCharactersBecomeUnk) {
  const Tokenizer t(Vocab::build(spm_spec({{kSpace, -5}, {"a", -5}}, /*with_bytes=*/false)));
  EXPECT_EQ(texts(t, t.tokenize("a\xC3\xA9")), (Texts{kSpace, "a", "<unk>", "<unk>"}));
}

TEST(SpmTokenizer, BosEosAndSpecialTokens) {
  const Tokenizer t(Vocab::build(spm_spec({{kSpace, -5}, {"a", -5}, {kSpace + "a", -1}, {"<", -5}, {"s", -5},
                                           {">", -5}})));
  EXPECT_EQ(texts(t, t.tokenize("a", {.add_bos = true, .add_eos = true})), (Texts{"<s>", kSpace + "a", "</s>"}));
  // Without parse_special, "<s>" is text; with it, the control token - and the
  // text after a special token gets the leading space again.
  EXPECT_EQ(texts(t, t.tokenize("<s>a")), (Texts{kSpace, "<", "s", ">", "a"}));
  EXPECT_EQ(texts(t, t.tokenize("<s>a", {.parse_special = true})), (Texts{"<s>", kSpace + "a"}));
  EXPECT_EQ(texts(t, t.tokenize("a</s>", {.parse_special = true})), (Texts{kSpace + "a", "</s>"}));
}

TEST(SpmTokenizer, UserDefinedTokensAreAlwaysWholePieces) {
  VocabSpec spec = spm_spec({{kSpace, -5}, {"a", -5}, {"<tool>", 0}});
  spec.token_types.back() = 4;
  const Tokenizer t(Vocab::build(spec));
  EXPECT_EQ(texts(t, t.tokenize("a<tool>a")), (Texts{kSpace, "a", "<tool>", kSpace, "a"}));
  EXPECT_EQ(t.detokenize(t.tokenize("a<tool>a")), "a<tool> a");  // the prefix space after a special
}

TEST(SpmTokenizer, LongerSpecialTokensWin) {
  VocabSpec spec = spm_spec({{"<|a|>", 0}, {"<|a|><|b|>", 0}});
  spec.token_types[spec.token_types.size() - 1] = 3;
  spec.token_types[spec.token_types.size() - 2] = 3;
  const Tokenizer t(Vocab::build(spec));
  EXPECT_EQ(texts(t, t.tokenize("<|a|><|b|><|a|>", {.parse_special = true})), (Texts{"<|a|><|b|>", "<|a|>"}));
}

// Byte-level BPE over the characters a, b, c, "Ġ" (space).
VocabSpec bpe_spec(std::vector<std::string> merges, std::string pre = "gpt-2") {
  VocabSpec spec;
  spec.model = VocabModel::Bpe;
  spec.tokens = {"a", "b", "c", "\xC4\xA0", "ab", "bc", "abc", "\xC4\xA0" "a", "<|stop|>"};
  spec.token_types = {1, 1, 1, 1, 1, 1, 1, 1, 3};
  spec.merges = std::move(merges);
  spec.pre = std::move(pre);
  spec.eos_id = 8;
  return spec;
}

TEST(BpeTokenizer, AppliesMergesByRank) {
  const Tokenizer ab_first(Vocab::build(bpe_spec({"a b", "b c", "ab c"})));
  EXPECT_EQ(texts(ab_first, ab_first.tokenize("abc")), (Texts{"abc"}));
  const Tokenizer bc_first(Vocab::build(bpe_spec({"b c", "a b", "ab c"})));
  EXPECT_EQ(texts(bc_first, bc_first.tokenize("abc")), (Texts{"a", "bc"}));
  EXPECT_EQ(texts(bc_first, bc_first.tokenize("abc a")), (Texts{"a", "bc", "\xC4\xA0", "a"}));
}

TEST(BpeTokenizer, SpacesAreByteLevelCharacters) {
  const Tokenizer t(Vocab::build(bpe_spec({"\xC4\xA0 a"})));
  EXPECT_EQ(texts(t, t.tokenize(" a")), (Texts{"\xC4\xA0" "a"}));
  EXPECT_EQ(t.detokenize(t.tokenize(" a a")), " a a");
}

TEST(BpeTokenizer, IgnoreMergesTakesWholeTokenWords) {
  const Tokenizer merging(Vocab::build(bpe_spec({"a b"})));
  EXPECT_EQ(texts(merging, merging.tokenize("abc")), (Texts{"ab", "c"}));
  const Tokenizer whole(Vocab::build(bpe_spec({"a b"}, "llama-bpe")));
  EXPECT_TRUE(whole.vocab().ignore_merges());
  EXPECT_EQ(texts(whole, whole.tokenize("abc")), (Texts{"abc"}));
}

TEST(BpeTokenizer, BytesWithoutTokensAreDropped) {
  const Tokenizer t(Vocab::build(bpe_spec({})));
  EXPECT_EQ(texts(t, t.tokenize("axb")), (Texts{"a", "b"}));
}

TEST(BpeTokenizer, ControlTokensNeedParseSpecial) {
  const Tokenizer t(Vocab::build(bpe_spec({})));
  EXPECT_EQ(t.tokenize("a<|stop|>", {.parse_special = true}), (std::vector<TokenId>{0, 8}));
  EXPECT_EQ(texts(t, t.tokenize("<|stop|>")), (Texts{}));  // '<', '|', ... are not in this vocabulary
  EXPECT_EQ(t.tokenize("a", {.add_bos = true, .add_eos = true}), (std::vector<TokenId>{0, 8}));  // no BOS here
}

TEST(Vocab, RejectsUnusableSpecs) {
  VocabSpec empty;
  EXPECT_THROW(Vocab::build(empty), Error);
  VocabSpec scores = spm_spec({{"a", 0}});
  scores.scores.pop_back();
  EXPECT_THROW(Vocab::build(scores), Error);
  VocabSpec types = spm_spec({{"a", 0}});
  types.token_types.push_back(1);
  EXPECT_THROW(Vocab::build(types), Error);
}

TEST(Vocab, ReportsWhatItWorksAround) {
  VocabSpec spec = bpe_spec({"a b", "a zzz", "nospace"}, "brand-new-model");
  spec.bos_id = 4294967295;  // "none" as converters write it: ignored silently
  spec.pad_id = 1000;        // a broken id: ignored with a warning
  const Vocab v = Vocab::build(spec);
  EXPECT_EQ(v.pre_tokenizer(), PreTokenizerKind::Default);
  EXPECT_EQ(v.bos(), kNoToken);
  EXPECT_EQ(v.pad(), kNoToken);
  ASSERT_EQ(v.warnings().size(), 3u);
  EXPECT_NE(v.warnings()[0].find("unknown pre-tokenizer 'brand-new-model'"), std::string::npos);
  EXPECT_NE(v.warnings()[1].find("2 BPE merges"), std::string::npos);
  EXPECT_NE(v.warnings()[2].find("padding_token_id = 1000"), std::string::npos);
  EXPECT_EQ(v.merge_rank(v.find("a"), v.find("b")), 0);
}

TEST(Vocab, DefaultsAndOverridesOfFlagsAndIds) {
  const Vocab spm = Vocab::build(spm_spec({{"a", 0}}));
  EXPECT_TRUE(spm.add_bos());
  EXPECT_FALSE(spm.add_eos());
  EXPECT_TRUE(spm.add_space_prefix());
  EXPECT_EQ(spm.bos(), 1);
  EXPECT_EQ(spm.eos(), 2);
  EXPECT_EQ(spm.unk(), 0);
  EXPECT_TRUE(spm.is_end_of_generation(2));
  EXPECT_FALSE(spm.is_end_of_generation(1));

  VocabSpec spec = bpe_spec({});
  spec.add_bos = true;
  const Vocab bpe = Vocab::build(spec);
  EXPECT_TRUE(bpe.add_bos());
  EXPECT_FALSE(bpe.add_space_prefix());
  EXPECT_EQ(bpe.unk(), kNoToken);
  EXPECT_EQ(bpe.eot(), kNoToken);
}

TEST(Vocab, FindsTheEndOfTurnTokenByItsText) {
  VocabSpec spec = bpe_spec({});
  spec.tokens[8] = "<|im_end|>";
  const Vocab v = Vocab::build(spec);
  EXPECT_EQ(v.eot(), 8);
  EXPECT_TRUE(v.is_end_of_generation(8));
}

// gpt-oss's harmony vocabulary has both: "<|end|>" ends one message of a
// turn (the reasoning before the answer), "<|return|>" the turn.
TEST(Vocab, HarmonyEndsTheTurnAtReturnNotAtEnd) {
  VocabSpec spec = bpe_spec({});
  spec.tokens[7] = "<|end|>";
  spec.tokens[8] = "<|return|>";
  const Vocab v = Vocab::build(spec);
  EXPECT_EQ(v.eot(), 8);
  EXPECT_FALSE(v.is_end_of_generation(7));
}

TEST(Vocab, EmptyTokensAreRenamedAndSpecialsSortedLongestFirst) {
  VocabSpec spec = spm_spec({{"", 0}, {"<a>", 0}, {"<long>", 0}});
  spec.token_types[spec.token_types.size() - 2] = 4;
  spec.token_types[spec.token_types.size() - 1] = 4;
  const Vocab v = Vocab::build(spec);
  EXPECT_EQ(v.text(259), "[EMPTY_259]");
  ASSERT_FALSE(v.special_tokens().empty());
  EXPECT_EQ(v.text(v.special_tokens().front()), "<long>");
}

}  // namespace
}  // namespace sieve::tokenizer
