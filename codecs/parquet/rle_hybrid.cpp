#include "codecs/parquet/rle_hybrid.h"

#include <algorithm>
#include <bit>

#include "codecs/byte_io.h"

namespace strata::parquet {

int bit_width_of(uint32_t max_value) { return max_value == 0 ? 0 : 32 - std::countl_zero(max_value); }

namespace {

void put_bit_packed(std::span<const uint32_t> values, size_t begin, size_t count, int width,
                    std::string& out) {
  const size_t groups = (count + 7) / 8;
  put_varint(out, (groups << 1) | 1);
  if (width == 0) return;
  uint64_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < groups * 8; ++i) {
    const uint64_t value = i < count ? values[begin + i] : 0;
    buffer |= value << bits;
    bits += width;
    while (bits >= 8) {
      out.push_back(static_cast<char>(buffer & 0xff));
      buffer >>= 8;
      bits -= 8;
    }
  }
  // groups of 8 values of `width` bits end on a byte boundary: nothing is left in `buffer`
}

void put_rle_run(uint32_t value, size_t count, int width, std::string& out) {
  put_varint(out, count << 1);
  for (int byte = 0; byte < (width + 7) / 8; ++byte) out.push_back(static_cast<char>((value >> (8 * byte)) & 0xff));
}

}  // namespace

void encode_rle_hybrid(std::span<const uint32_t> values, int width, std::string& out) {
  const size_t n = values.size();
  size_t pending_begin = 0;  // values [pending_begin, i) wait to be bit-packed
  size_t i = 0;
  while (i < n) {
    size_t run = 1;
    while (i + run < n && values[i + run] == values[i]) ++run;
    if (run < 8) {
      i += run;
      continue;
    }
    // A long run. The values before it must fill whole groups of 8 to be bit-packed, so the run
    // lends them the few values they are short of.
    const size_t pending = i - pending_begin;
    const size_t lend = (8 - pending % 8) % 8;
    if (pending > 0) {
      i += lend;
      run -= lend;
      put_bit_packed(values, pending_begin, pending + lend, width, out);
    }
    if (run >= 8) {
      put_rle_run(values[i], run, width, out);
      i += run;
    }
    pending_begin = i;
    // a remainder shorter than 8 left by the loan starts the next pending stretch
  }
  if (pending_begin < n) put_bit_packed(values, pending_begin, n - pending_begin, width, out);
}

Status decode_rle_hybrid(std::string_view data, int width, std::span<uint32_t> out, size_t* consumed) {
  if (width < 0 || width > 32) return Status::corruption("parquet: an RLE bit width is above 32");
  const size_t value_bytes = static_cast<size_t>(width + 7) / 8;
  const uint64_t mask = width == 32 ? 0xffffffffull : ((uint64_t{1} << width) - 1);
  ByteReader reader(data);
  size_t produced = 0;
  while (produced < out.size()) {
    const auto header = reader.varint();
    if (!header) return Status::corruption("parquet: RLE data ends before all its values");
    if ((*header & 1) == 0) {
      const uint64_t count = *header >> 1;
      uint32_t value = 0;
      for (size_t b = 0; b < value_bytes; ++b) {
        const auto byte = reader.byte();
        if (!byte) return Status::corruption("parquet: RLE data ends inside a run");
        value |= static_cast<uint32_t>(*byte) << (8 * b);
      }
      if (width < 32 && value > mask) return Status::corruption("parquet: an RLE run value exceeds its bit width");
      if (count == 0) return Status::corruption("parquet: an RLE run of length 0");
      const size_t take = static_cast<size_t>(std::min<uint64_t>(count, out.size() - produced));
      std::fill_n(out.begin() + produced, take, value);
      produced += take;
    } else {
      const uint64_t groups = *header >> 1;
      if (groups == 0) return Status::corruption("parquet: a bit-packed run of 0 groups");
      const size_t wanted = out.size() - produced;
      const size_t take = groups > wanted / 8 ? wanted : static_cast<size_t>(groups * 8);
      // Only the values still wanted must be present: the last group may be cut short.
      if ((static_cast<uint64_t>(take) * width + 7) / 8 > reader.remaining()) {
        return Status::corruption("parquet: a bit-packed run runs past its data");
      }
      const std::string_view packed = reader.rest();
      uint64_t buffer = 0;
      int bits = 0;
      size_t next_byte = 0;
      for (size_t v = 0; v < take; ++v) {
        while (bits < width) {
          buffer |= static_cast<uint64_t>(static_cast<uint8_t>(packed[next_byte++])) << bits;
          bits += 8;
        }
        out[produced + v] = static_cast<uint32_t>(buffer & mask);
        buffer >>= width;
        bits -= width;
      }
      produced += take;
      const uint64_t run_bytes =
          groups > reader.remaining() ? reader.remaining() : std::min<uint64_t>(groups * width, reader.remaining());
      (void)reader.bytes(run_bytes);
    }
  }
  if (consumed) *consumed = reader.position();
  return Status::ok();
}

}  // namespace strata::parquet
