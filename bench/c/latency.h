/*
 * latency.h — round-trip times of the load generators (echo-load,
 * app-load), sampled cheaply: each sample is one increment in a histogram
 * of log-spaced buckets, so nothing is allocated or sorted per sample and
 * the memory is fixed whatever the rate. Values below 16 ns have a bucket
 * each; above, each power of two [2^m, 2^(m+1)) is cut into 16 equal
 * buckets, so a bucket is at most 1/16 of its value wide and a percentile,
 * reported as its bucket's middle, is within ~3% of the true value. The
 * maximum is kept exactly. Percentiles are nearest-rank.
 *
 * One histogram per program (file-scope state): lat_reset() when the
 * measured window opens, lat_record() per completed round trip,
 * LAT_JSON_FORMAT / LAT_JSON_ARGS in the result line.
 */
#ifndef BENCH_LATENCY_H
#define BENCH_LATENCY_H

#include <stdint.h>
#include <string.h>

#define LAT_SUB 16
#define LAT_BUCKETS (61 * LAT_SUB) /* up to 2^64 ns */
static unsigned long lat_hist[LAT_BUCKETS];
static unsigned long lat_count;
static uint64_t lat_max;

static inline void lat_reset(void) {
  memset(lat_hist, 0, sizeof lat_hist);
  lat_count = 0;
  lat_max = 0;
}

static inline unsigned lat_bucket(uint64_t ns) {
  if (ns < LAT_SUB) return (unsigned)ns;
  unsigned msb = 63u - (unsigned)__builtin_clzll(ns); /* >= 4 */
  return ((msb - 3u) << 4) + (unsigned)((ns >> (msb - 4u)) & (LAT_SUB - 1));
}

/* The middle of bucket i, in nanoseconds. */
static inline double lat_bucket_mid(unsigned i) {
  if (i < LAT_SUB) return i;
  unsigned msb = (i >> 4) + 3u, sub = i & (LAT_SUB - 1);
  double width = (double)(1ull << (msb - 4u));
  return (LAT_SUB + sub) * width + width / 2;
}

/* One round trip of `seconds`. */
static inline void lat_record(double seconds) {
  uint64_t ns = seconds > 0 ? (uint64_t)(seconds * 1e9) : 0;
  lat_hist[lat_bucket(ns)]++;
  lat_count++;
  if (ns > lat_max) lat_max = ns;
}

/* The nearest-rank percentile p (0 < p <= 1) in microseconds; 0 without samples. */
static inline double lat_percentile_us(double p) {
  if (lat_count == 0) return 0;
  double want = p * (double)lat_count;
  unsigned long rank = (unsigned long)want;
  if ((double)rank < want) rank++;
  if (rank == 0) rank = 1;
  unsigned long seen = 0;
  for (unsigned i = 0; i < LAT_BUCKETS; i++) {
    seen += lat_hist[i];
    if (seen >= rank) {
      double mid = lat_bucket_mid(i) / 1e3, max = (double)lat_max / 1e3;
      return mid < max ? mid : max; /* the top bucket's middle may lie above the real maximum */
    }
  }
  return (double)lat_max / 1e3;
}

/* The histogram's fields of a result line: printf(... LAT_JSON_FORMAT "}\n", ..., LAT_JSON_ARGS). */
#define LAT_JSON_FORMAT "\"lat_samples\": %lu, \"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f"
#define LAT_JSON_ARGS lat_count, lat_percentile_us(0.50), lat_percentile_us(0.99), lat_percentile_us(0.999), (double)lat_max / 1e3

#endif
