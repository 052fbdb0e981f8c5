// Deterministic clustered test vectors: points scattered (unit normal noise) around `clusters`
// random centres (normal, spread 3). Data, queries and later insertions taken from one call
// share the clusters, as real embeddings and their queries do.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace strata::testing {

inline std::vector<std::vector<float>> clustered_vectors(size_t count, size_t dimensions, uint32_t seed,
                                                         size_t clusters = 16) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> centres(clusters, std::vector<float>(dimensions));
  for (auto& centre : centres) {
    for (float& x : centre) x = normal(random) * 3;
  }
  std::vector<std::vector<float>> points(count, std::vector<float>(dimensions));
  for (auto& point : points) {
    const auto& centre = centres[random() % centres.size()];
    for (size_t d = 0; d < dimensions; ++d) point[d] = centre[d] + normal(random);
  }
  return points;
}

}  // namespace strata::testing
