// KeySortedRows: every row comes out exactly once, keys in SQLite's order under the collation
// (5 and 5.0 together, NOCASE folding ASCII), the numbers kept per slot, others by reference.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "vtab/columnar/key_sorted_rows.h"

namespace strata::columnar {
namespace {

TEST(KeySortedRows, EmitsEveryRowOnceInKeyOrder) {
  for (Collation collation : {Collation::kBinary, Collation::kNoCase, Collation::kRtrim}) {
   for (bool only_integers : {false, true}) {  // integers alone take a faster path
    for (size_t rows : {size_t{0}, size_t{1}, size_t{63}, size_t{5000}, size_t{40000}}) {
      std::mt19937_64 random(rows + static_cast<size_t>(collation));
      std::vector<std::string> texts;
      for (int i = 0; i < 50; ++i) {
        std::string text(1 + random() % 4, 'a');
        for (char& c : text) c = static_cast<char>((random() % 2 ? 'a' : 'A') + random() % 3);
        if (random() % 4 == 0) text += "  ";
        texts.push_back(text);
      }
      std::vector<std::vector<ValueView>> values(rows);
      for (size_t i = 0; i < rows; ++i) {
        ValueView key;
        switch (only_integers ? 1 + 4 * (random() % 2) : random() % 6) {
          case 0: key = ValueView::null(); break;
          case 1: key = ValueView::of_integer(static_cast<int64_t>(random() % 200) - 100); break;
          case 2: key = ValueView::of_real(static_cast<double>(static_cast<int64_t>(random() % 200) - 100)); break;  // 5.0
          case 3: key = ValueView::of_real(static_cast<double>(random() % 1000) / 7); break;
          case 4: key = ValueView::of_text(texts[random() % texts.size()]); break;
          default: key = ValueView::of_integer(static_cast<int64_t>(random()));  // many distinct
        }
        ValueView number = random() % 5 == 0 ? ValueView::null() : ValueView::of_real(static_cast<double>(i));
        ValueView text = ValueView::of_text(texts[i % texts.size()]);
        values[i] = {key, number, text};
      }
      KeySortedRows sorted(collation, 3);
      for (size_t i = 0; i < rows; ++i) sorted.add(i, values[i], false);
      sorted.finish();
      std::set<uint64_t> seen;
      std::optional<ValueView> previous;
      for (; !sorted.at_end(); sorted.next()) {
        uint64_t row = sorted.reference();
        ASSERT_LT(row, rows);
        ASSERT_TRUE(seen.insert(row).second) << "row " << row << " twice";
        ValueView key = *sorted.value(0);
        EXPECT_EQ(compare_values(key, values[row][0], collation), 0);
        if (previous) {
          ASSERT_LE(compare_values(*previous, key, collation), 0) << "out of order at row " << row;
        }
        previous = key;
        std::optional<ValueView> number = sorted.value(1);
        ASSERT_TRUE(number.has_value());
        EXPECT_EQ(number->type, values[row][1].type);
        if (number->type == ValueType::kReal) {
          EXPECT_EQ(number->real, values[row][1].real);
        }
        EXPECT_FALSE(sorted.value(2).has_value()) << "text is read by reference";
      }
      EXPECT_EQ(seen.size(), rows);
    }
   }
  }
}

}  // namespace
}  // namespace strata::columnar
