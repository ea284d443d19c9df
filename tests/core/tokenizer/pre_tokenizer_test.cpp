// Pre-tokenizer splits: worked examples per family, the name table, and a
// cross-check of every scanner against std::regex run the way the reference
// implementation runs its regexes (categories collapsed to marker bytes,
// non-ASCII whitespace shown to the regex engine as U+000B).

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <regex>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"

namespace sieve::tokenizer {
namespace {

std::vector<std::string> split(PreTokenizerKind kind, const std::string& text) {
  std::vector<TextSpan> spans;
  pre_tokenize(kind, text, spans);
  std::vector<std::string> words;
  size_t expected_begin = 0;
  for (const TextSpan& s : spans) {
    EXPECT_EQ(s.begin, expected_begin) << "words must cover the text in order";
    EXPECT_LT(s.begin, s.end);
    words.push_back(text.substr(s.begin, s.end - s.begin));
    expected_begin = s.end;
  }
  EXPECT_EQ(expected_begin, text.size());
  return words;
}

using Words = std::vector<std::string>;

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(split(PreTokenizerKind::Gpt2, "Hello world's 123!!  x"),
            (Words{"Hello", " world", "'s", " 123", "!!", " ", " x"}));
  EXPECT_EQ(split(PreTokenizerKind::Gpt2, "I'M  \t\n"), (Words{"I", "'", "M", "  \t\n"}));
}

TEST(PreTokenizer, Llama3GroupsDigitsByThreeAndKeepsLineBreaks) {
  EXPECT_EQ(split(PreTokenizerKind::Llama3, "12345 abc\n\n  def"),
            (Words{"123", "45", " abc", "\n\n", " ", " def"}));
  EXPECT_EQ(split(PreTokenizerKind::Llama3, "I'M fine"), (Words{"I", "'M", " fine"}));
}

TEST(PreTokenizer, Qwen2SplitsEveryDigit) {
  EXPECT_EQ(split(PreTokenizerKind::Qwen2, "x 12345"), (Words{"x", " ", "1", "2", "3", "4", "5"}));
}

TEST(PreTokenizer, DefaultSplitsPunctuationAndNumbersFirst) {
  EXPECT_EQ(split(PreTokenizerKind::Default, "a+b=3.14"), (Words{"a", "+", "b", "=", "3", ".", "14"}));
}

TEST(PreTokenizer, StarcoderSplitsDigitsFirst) {
  EXPECT_EQ(split(PreTokenizerKind::Starcoder, "x=12"), (Words{"x", "=", "1", "2"}));
}

TEST(PreTokenizer, FalconSplitsBackticksAndThreeDigitGroups) {
  EXPECT_EQ(split(PreTokenizerKind::Falcon, "a`b 1234"), (Words{"a", "`", "b", " ", "123", "4"}));
}

TEST(PreTokenizer, DeepseekLlmSeparatesScripts) {
  EXPECT_EQ(split(PreTokenizerKind::DeepseekLlm, "Hello \xE4\xB8\x96\xE7\x95\x8C 123"),
            (Words{"Hello", " ", "\xE4\xB8\x96\xE7\x95\x8C", " ", "123"}));
}

TEST(PreTokenizer, DeepseekCoderSplitsLinesAndDigits) {
  EXPECT_EQ(split(PreTokenizerKind::DeepseekCoder, "if x==12:\n y"),
            (Words{"if", " x", "==", "1", "2", ":", "\n", " y"}));
}

TEST(PreTokenizer, MalformedBytesStayInTheWords) {
  const std::string text = "ab\xFF\xC3 cd\x80";
  std::string joined;
  for (const std::string& w : split(PreTokenizerKind::Llama3, text)) joined += w;
  EXPECT_EQ(joined, text);
}

TEST(PreTokenizer, ChoosesByName) {
  EXPECT_EQ(choose_pre_tokenizer("").kind, PreTokenizerKind::Default);
  EXPECT_TRUE(choose_pre_tokenizer("").recognized);
  EXPECT_EQ(choose_pre_tokenizer("gpt-2").kind, PreTokenizerKind::Gpt2);
  EXPECT_EQ(choose_pre_tokenizer("mpt").kind, PreTokenizerKind::Gpt2);
  const PreTokenizerChoice llama3 = choose_pre_tokenizer("llama-bpe");
  EXPECT_EQ(llama3.kind, PreTokenizerKind::Llama3);
  EXPECT_TRUE(llama3.ignore_merges);
  EXPECT_TRUE(llama3.add_bos);
  EXPECT_EQ(choose_pre_tokenizer("qwen2").kind, PreTokenizerKind::Qwen2);
  EXPECT_EQ(choose_pre_tokenizer("deepseek-llm").kind, PreTokenizerKind::DeepseekLlm);
  EXPECT_EQ(choose_pre_tokenizer("deepseek-coder").kind, PreTokenizerKind::DeepseekCoder);
  EXPECT_EQ(choose_pre_tokenizer("falcon").kind, PreTokenizerKind::Falcon);
  EXPECT_EQ(choose_pre_tokenizer("starcoder").kind, PreTokenizerKind::Starcoder);
  EXPECT_EQ(choose_pre_tokenizer("refact").kind, PreTokenizerKind::Starcoder);
  const PreTokenizerChoice unknown = choose_pre_tokenizer("brand-new-model");
  EXPECT_FALSE(unknown.recognized);
  EXPECT_EQ(unknown.kind, PreTokenizerKind::Default);
}

// ---- cross-check against std::regex ----

std::vector<uint32_t> codepoints(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t pos = 0; pos < s.size();) {
    const DecodedCodepoint d = decode_utf8(s, pos);
    out.push_back(d.codepoint);
    pos += d.length;
  }
  return out;
}

template <typename Char, typename Regex>
std::vector<size_t> split_with_regex(const std::basic_string<Char>& text, const Regex& regex,
                                     const std::vector<size_t>& pieces) {
  std::vector<size_t> out;
  size_t start = 0;
  for (const size_t length : pieces) {
    using Iterator = std::regex_iterator<const Char*>;
    size_t matched_to = 0;
    for (Iterator it(text.data() + start, text.data() + start + length, regex), end; it != end; ++it) {
      const size_t position = static_cast<size_t>(it->position());
      if (position > matched_to) out.push_back(position - matched_to);
      out.push_back(static_cast<size_t>(it->length()));
      matched_to = position + static_cast<size_t>(it->length());
    }
    if (matched_to < length) out.push_back(length - matched_to);
    start += length;
  }
  return out;
}

// Piece lengths (in code points) the reference's regex machinery gives.
std::vector<size_t> reference_split(const std::string& text, const std::vector<std::string>& regexes) {
  const std::vector<uint32_t> cps = codepoints(text);
  std::string collapsed;
  for (const uint32_t cp : cps) {
    if (cp < 128) {
      collapsed += static_cast<char>(cp);
    } else if (is_whitespace(cp)) {
      collapsed += '\x0B';
    } else {
      const Category c = category_of(cp);
      collapsed += c == Category::Number ? '\xD1' : c == Category::Letter ? '\xD2' : c == Category::Punctuation ? '\xD3' : '\xD0';
    }
  }
  const std::map<std::string, std::string> classes = {
      {"\\p{N}", "\xD1" "0-9"}, {"\\p{L}", "\xD2" "A-Za-z"}, {"\\p{P}", "\xD3" "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}"}};
  std::vector<size_t> pieces = {cps.size()};
  for (const std::string& expr : regexes) {
    if (expr.find("\\p{") != std::string::npos) {
      std::string rewritten;
      bool inside = false;
      for (size_t i = 0; i < expr.size(); ++i) {
        if (expr[i] == '[' && (i == 0 || expr[i - 1] != '\\')) inside = true;
        if (expr[i] == ']' && inside && expr[i - 1] != '\\') inside = false;
        const auto cls = classes.find(expr.substr(i, 5));
        if (cls != classes.end()) {
          rewritten += inside ? cls->second : "[" + cls->second + "]";
          i += 4;
        } else {
          rewritten += expr[i];
        }
      }
      pieces = split_with_regex(collapsed, std::regex(rewritten), pieces);
    } else {
      std::wstring wide(cps.begin(), cps.end());
      for (wchar_t& c : wide) {
        if (c > 0x7F && is_whitespace(static_cast<uint32_t>(c))) c = 0x0B;
      }
      const std::vector<uint32_t> expr_cps = codepoints(expr);
      pieces = split_with_regex(wide, std::wregex(std::wstring(expr_cps.begin(), expr_cps.end())), pieces);
    }
  }
  return pieces;
}

TEST(PreTokenizer, ScannersAgreeWithStdRegexOnRandomText) {
  if (sizeof(wchar_t) < 4) GTEST_SKIP() << "needs a 32-bit wchar_t";
  const std::string gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
  const std::string llama3_head = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|";
  const std::string llama3_tail = "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const std::string cjk = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
  const std::string cased_letters =
      "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF"
      "\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5"
      "\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA"
      "\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45"
      "\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE"
      "\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC"
      "\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134"
      "\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE"
      "\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF"
      "\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3"
      "\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF"
      "\U0001E900-\U0001E943]+";
  const std::map<PreTokenizerKind, std::vector<std::string>> regexes = {
      {PreTokenizerKind::Default, {"[\\p{P}\\$\\+<=>\\^~\\|]+", gpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
      {PreTokenizerKind::Gpt2, {gpt2}},
      {PreTokenizerKind::Llama3, {llama3_head + "\\p{N}{1,3}" + llama3_tail}},
      {PreTokenizerKind::Qwen2, {llama3_head + "\\p{N}" + llama3_tail}},
      {PreTokenizerKind::DeepseekLlm,
       {"[\r\n]", cased_letters, "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+", "\\s+$", cjk,
        "\\p{N}+"}},
      {PreTokenizerKind::DeepseekCoder, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", cjk, "\\p{N}"}},
      {PreTokenizerKind::Falcon, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", gpt2, "[0-9][0-9][0-9]"}},
      {PreTokenizerKind::Starcoder, {"\\p{N}", gpt2}},
  };
  const char* alphabet[] = {
      " ", " ", "  ", "\n", "\r", "\t", "\v", "a", "B", "s", "S", "t", "e", "r", "v", "l", "L", "m", "d", "'",
      "0", "1", "9", "\xC2\xBD", "\xE2\x85\xAB", "\xD9\xA3", "!", ".", ",", "$", "+", "<", "|", "`", "~", "^",
      "_", "-", "(", "\xC3\xA9", "\xCE\xA9", "\xE1\xBD\xBD", "\xE2\x84\xAA", "\xE4\xB8\xAD", "\xEA\xB0\x80",
      "\xE0\xA0\x80", "\xE3\x81\x82", "\xE3\x80\x80", "\xC2\xA0", "\xE2\x80\x83", "\xC2\x85", "\xCC\x81",
      "\xF0\x9F\x98\x80", "\xE2\x84\xA2", "\xEF\xBC\x81", "\xE2\x80\x98", "\xE3\x80\x82", "\x1C", "\xFF"};
  std::mt19937 rng(7);
  for (const auto& [kind, exprs] : regexes) {
    for (int iteration = 0; iteration < 400; ++iteration) {
      std::string text;
      const int n = static_cast<int>(rng() % 14);
      for (int i = 0; i < n; ++i) text += alphabet[rng() % std::size(alphabet)];
      std::vector<size_t> ours;
      for (const std::string& word : split(kind, text)) ours.push_back(codepoints(word).size());
      ASSERT_EQ(ours, reference_split(text, exprs)) << pre_tokenizer_name(kind) << " on \"" << text << "\"";
    }
  }
}

}  // namespace
}  // namespace sieve::tokenizer
