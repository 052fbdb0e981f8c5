// Parquet's RLE / bit-packing hybrid (parquet-format Encodings.md, "RLE"): definition levels,
// dictionary indices and RLE booleans. A stream is a sequence of runs, each headed by a varint:
//   header & 1 == 0   an RLE run: (header >> 1) copies of one value stored in ceil(width/8)
//                     little-endian bytes
//   header & 1 == 1   (header >> 1) groups of 8 values bit-packed LSB first, width bytes a group
// Bit widths go from 0 (every value 0) to 32.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ext/status.h"

namespace strata::parquet {

// Appends `values` (each below 2^width) as one hybrid stream: runs of 8 or more equal values
// become RLE runs, everything between them bit-packed groups (the last group padded with 0s).
void encode_rle_hybrid(std::span<const uint32_t> values, int width, std::string& out);

// Decodes `out.size()` values; an error when the stream ends early or is malformed. `consumed`
// (if given) receives the bytes read, counting a last bit-packed group in full.
Status decode_rle_hybrid(std::string_view data, int width, std::span<uint32_t> out,
                         size_t* consumed = nullptr);

// Bits needed for values up to `max_value`.
int bit_width_of(uint32_t max_value);

}  // namespace strata::parquet
