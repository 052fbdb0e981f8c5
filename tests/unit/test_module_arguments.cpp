#include "ext/module_arguments.h"

#include <gtest/gtest.h>

#include <vector>

namespace strata {
namespace {

// The option table a columnar-like module would declare.
const std::vector<OptionSpec>& columnar_like_specs() {
  static const std::vector<OptionSpec> specs = {
      {"chunk_rows", OptionKind::kInteger, 1, 1048576},
      {"partition_by", OptionKind::kText},
      {"bloom", OptionKind::kText},
      {"index", OptionKind::kText},
      {"compression", OptionKind::kText},
      {"tier", OptionKind::kText},
      {"metric", OptionKind::kChoice, 0, 0, {"l2", "cosine", "ip"}},
      {"verbose", OptionKind::kBoolean},
  };
  return specs;
}

Result<ModuleArguments> parse(std::vector<const char*> arguments) {
  return parse_module_arguments("columnar", columnar_like_specs(), arguments);
}

std::string error_of(std::vector<const char*> arguments) {
  Result<ModuleArguments> parsed = parse(std::move(arguments));
  EXPECT_FALSE(parsed.is_ok());
  return parsed.is_ok() ? "" : parsed.status().message();
}

TEST(ModuleArguments, SeparatesColumnsFromOptionsInOrder) {
  Result<ModuleArguments> parsed =
      parse({" id INTEGER PRIMARY KEY", "kind TEXT NOT NULL DEFAULT 'a=b'", "chunk_rows=65536",
             "amount REAL CHECK(amount = 1)", " bloom = 'user_id,kind' ", "UNIQUE(kind, id)"});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  EXPECT_EQ(parsed->column_definitions(),
            (std::vector<std::string>{"id INTEGER PRIMARY KEY",
                                      "kind TEXT NOT NULL DEFAULT 'a=b'",
                                      "amount REAL CHECK(amount = 1)", "UNIQUE(kind, id)"}));
  ASSERT_EQ(parsed->options().size(), 2u);
  EXPECT_EQ(parsed->options()[0].name, "chunk_rows");
  EXPECT_EQ(parsed->integer("chunk_rows"), 65536);
  EXPECT_EQ(parsed->text("bloom"), "user_id,kind");
  EXPECT_FALSE(parsed->has("tier"));
  EXPECT_EQ(parsed->text("tier"), std::nullopt);
}

TEST(ModuleArguments, QuotedColumnNamesWithEqualsAreColumns) {
  Result<ModuleArguments> parsed = parse({"\"a=b\" INTEGER", "[x=y] TEXT", "`c=d`"});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  EXPECT_EQ(parsed->column_definitions().size(), 3u);
  EXPECT_TRUE(parsed->options().empty());
}

TEST(ModuleArguments, NamesMatchCaseInsensitivelyAndTakeTheSpecSpelling) {
  Result<ModuleArguments> parsed = parse({"CHUNK_ROWS=10", "Metric=COSINE"});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  EXPECT_EQ(parsed->options()[0].name, "chunk_rows");
  EXPECT_EQ(parsed->text("metric"), "cosine");
  EXPECT_EQ(parsed->integer("Chunk_Rows"), 10);
}

TEST(ModuleArguments, UnquotesSingleAndDoubleQuotedValues) {
  Result<ModuleArguments> parsed =
      parse({"partition_by='day(ts)'", "tier=\"s3://bucket/pre fix\"", "index='it''s'"});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  EXPECT_EQ(parsed->text("partition_by"), "day(ts)");
  EXPECT_EQ(parsed->text("tier"), "s3://bucket/pre fix");
  EXPECT_EQ(parsed->text("index"), "it's");
}

TEST(ModuleArguments, BareValuesMayContainPunctuation) {
  Result<ModuleArguments> parsed = parse({"compression=zstd:3", "tier=file:cold/dir", "index=float[768]"});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  EXPECT_EQ(parsed->text("compression"), "zstd:3");
  EXPECT_EQ(parsed->text("tier"), "file:cold/dir");
  EXPECT_EQ(parsed->text("index"), "float[768]");
}

TEST(ModuleArguments, UnknownOptionListsTheAllowedOnes) {
  EXPECT_EQ(error_of({"a INT", "chunk_row=5"}),
            "columnar: unknown option 'chunk_row', expected one of: chunk_rows, partition_by, "
            "bloom, index, compression, tier, metric, verbose");
}

TEST(ModuleArguments, ModuleWithoutOptionsSaysSo) {
  Result<ModuleArguments> parsed = parse_module_arguments("things", {}, std::vector<const char*>{"x=1"});
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().message(),
            "things: unknown option 'x', this module takes no options");
}

TEST(ModuleArguments, IntegerOutOfRangeOrMalformed) {
  const std::string expected_prefix = "columnar: option 'chunk_rows' must be an integer from 1 to 1048576, got ";
  EXPECT_EQ(error_of({"chunk_rows=0"}), expected_prefix + "'0'");
  EXPECT_EQ(error_of({"chunk_rows=1048577"}), expected_prefix + "'1048577'");
  EXPECT_EQ(error_of({"chunk_rows=lots"}), expected_prefix + "'lots'");
  EXPECT_EQ(error_of({"chunk_rows=12abc"}), expected_prefix + "'12abc'");
  EXPECT_EQ(error_of({"chunk_rows=0x10"}), expected_prefix + "'0x10'");
  EXPECT_EQ(error_of({"chunk_rows=99999999999999999999999"}),
            expected_prefix + "'99999999999999999999999'");
  Result<ModuleArguments> signed_value = parse({"chunk_rows=+7"});
  ASSERT_TRUE(signed_value.is_ok());
  EXPECT_EQ(signed_value->text("chunk_rows"), "7");
}

TEST(ModuleArguments, ChoiceAndBoolean) {
  EXPECT_EQ(error_of({"metric=euclid"}),
            "columnar: option 'metric' must be one of: l2, cosine, ip, got 'euclid'");
  EXPECT_EQ(error_of({"verbose=maybe"}),
            "columnar: option 'verbose' must be true or false (also on/off, yes/no, 1/0), got "
            "'maybe'");
  Result<ModuleArguments> parsed = parse({"verbose=ON"});
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed->boolean("verbose"), true);
  EXPECT_EQ(parse({"verbose=no"})->boolean("verbose"), false);
}

TEST(ModuleArguments, RepeatedMissingOrMalformedValues) {
  EXPECT_EQ(error_of({"bloom=a", "BLOOM=b"}), "columnar: option 'bloom' given more than once");
  EXPECT_EQ(error_of({"bloom="}), "columnar: option 'bloom' needs a value after '='");
  EXPECT_EQ(error_of({"bloom='abc"}), "columnar: option 'bloom': 'abc: missing closing quote");
  EXPECT_EQ(error_of({"bloom='a' 'b'"}),
            "columnar: option 'bloom': 'a' 'b': unexpected text after the closing quote");
  EXPECT_EQ(error_of({"bloom=a b"}),
            "columnar: option 'bloom': 'a b': a value with spaces or quotes must be written in "
            "'…' quotes");
  EXPECT_EQ(error_of({"a INT", "  "}), "columnar: empty argument (two commas in a row?)");
}

TEST(ModuleArguments, EmptyQuotedValueIsAllowedAsText) {
  Result<ModuleArguments> parsed = parse({"bloom=''"});
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed->text("bloom"), "");
}

TEST(SplitKeyValue, OnlyBareIdentifierBeforeEquals) {
  EXPECT_TRUE(split_key_value("a=1"));
  EXPECT_TRUE(split_key_value("  _a9 \t= x "));
  EXPECT_FALSE(split_key_value("9a=1"));
  EXPECT_FALSE(split_key_value("a b=1"));
  EXPECT_FALSE(split_key_value("a INTEGER DEFAULT 1"));
  EXPECT_EQ(split_key_value("k = 'v'")->value, "'v'");
}

TEST(ParseInt64, FullRangeAndRejections) {
  EXPECT_EQ(parse_int64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_int64("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(parse_int64("9223372036854775808"), std::nullopt);
  EXPECT_EQ(parse_int64(""), std::nullopt);
  EXPECT_EQ(parse_int64("+"), std::nullopt);
  EXPECT_EQ(parse_int64(" 1"), std::nullopt);
  EXPECT_EQ(parse_int64("1.0"), std::nullopt);
}

}  // namespace
}  // namespace strata
