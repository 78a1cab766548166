// fmath64.glsl — float64 exp, log, tanh, sigmoid, sin, cos, erf, erf_inv and
// pow for the unary and binary shaders' float64 variants (shaderFloat64).
//
// GLSL has no double-precision transcendental functions, and Vulkan only
// promises that double arithmetic is "at least as precise as single
// precision" beyond +, -, * (correctly rounded). So, as fmath.glsl does for
// float32, everything here is built from +, -, * on doubles, integer
// operations on the bit patterns (two 32-bit words: no shaderInt64), and
// division and square root whose device result is only a first guess,
// corrected with exact remainders. Intermediate values are double-double
// pairs (dvec2: hi, lo) where the result needs more than 53 bits; `precise`
// keeps a driver from fusing a*b+c, which would break the error-free
// transformations (Dekker's product needs no fma, nor trusts it).
//
// The CPU backend uses glibc. Measured against it on lavapipe (see
// docs/vulkan.md): exp, log, sigmoid, pow, sin, cos and erf within 1 ulp;
// tanh and erf_inv within 2 (glibc's tanh and log1p are not correctly
// rounded). sin and cos reduce huge arguments exactly (Payne-Hanek). Results that are double denormals depend on the
// device keeping them (shaderDenormPreserveFloat64), which Vulkan leaves to
// it. Invalid operations return x86's default NaN; NaN inputs come back
// quieted.

#define LX64_NAN_HI 0xfff80000u
#define LX64_INF_HI 0x7ff00000u

double lx64_nan() { return packDouble2x32(uvec2(0u, LX64_NAN_HI)); }
double lx64_inf() { return packDouble2x32(uvec2(0u, LX64_INF_HI)); }
double lx64_quiet(double x) {
  uvec2 b = unpackDouble2x32(x);
  return packDouble2x32(uvec2(b.x, b.y | 0x00080000u));
}
// 2^k for k in [-1022, 1023].
double lx64_pow2(int k) { return packDouble2x32(uvec2(0u, uint(k + 1023) << 20)); }

// p * 2^k for k in [-1080, 1024], rounding once when the result is
// subnormal (p in about [0.5, 2]).
double lx64_scale(double p, int k) {
  precise double v = p;
  if (k > 1023) {
    v = v * 2.0LF;
    k -= 1;
  }
  if (k < -1022) {
    v = v * lx64_pow2(k + 1022); // still normal: exact
    k = -1022;
  }
  v = v * lx64_pow2(k);
  return v;
}

// ------------------------------------------------ error-free transformations
dvec2 lx64_two_sum(double a, double b) {
  precise double s = a + b;
  precise double bb = s - a;
  precise double e = (a - (s - bb)) + (b - bb);
  return dvec2(s, e);
}
// |a| >= |b| (or a == 0).
dvec2 lx64_fast_two_sum(double a, double b) {
  precise double s = a + b;
  precise double e = b - (s - a);
  return dvec2(s, e);
}
// a * b exactly, as hi + lo (Veltkamp's split; |a|, |b| < 2^995).
dvec2 lx64_two_prod(double a, double b) {
  precise double p = a * b;
  precise double ca = 134217729.0LF * a;
  precise double ah = ca - (ca - a);
  precise double al = a - ah;
  precise double cb = 134217729.0LF * b;
  precise double bh = cb - (cb - b);
  precise double bl = b - bh;
  precise double e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return dvec2(p, e);
}
dvec2 lx64_dd_add(dvec2 a, dvec2 b) {
  dvec2 s = lx64_two_sum(a.x, b.x);
  precise double lo = s.y + (a.y + b.y);
  return lx64_fast_two_sum(s.x, lo);
}
dvec2 lx64_dd_mul(dvec2 a, dvec2 b) {
  dvec2 p = lx64_two_prod(a.x, b.x);
  precise double lo = p.y + (a.x * b.y + a.y * b.x);
  return lx64_fast_two_sum(p.x, lo);
}
dvec2 lx64_dd_mul_d(dvec2 a, double b) {
  dvec2 p = lx64_two_prod(a.x, b);
  precise double lo = p.y + a.y * b;
  return lx64_fast_two_sum(p.x, lo);
}

// a / b for finite a, b whose quotient is a normal double: the device's
// quotient corrected twice by the exact remainder, so that the last step
// rounds q + r/b with r/b far below an ulp: correctly rounded (a quotient of
// doubles is never exactly half-way between two) unless the device's
// division is off by more than about 2^-20.
double lx64_div(double a, double b) {
  precise double q = a / b;
  for (int i = 0; i < 2; i++) {
    dvec2 p = lx64_two_prod(q, b);
    precise double r = (a - p.x) - p.y; // a - p.x is exact (Sterbenz)
    q = q + r / b;
  }
  return q;
}
// a / b for double-double operands, as a double-double.
dvec2 lx64_dd_div(dvec2 a, dvec2 b) {
  double q = lx64_div(a.x, b.x);
  dvec2 p = lx64_dd_mul_d(b, q);
  dvec2 r = lx64_dd_add(a, -p);
  precise double q2 = r.x / b.x; // a correction: the device's error hardly matters
  return lx64_fast_two_sum(q, q2);
}
// sqrt(a) for a normal positive a, corrected as lx64_div.
double lx64_sqrt(double a) {
  precise double s = sqrt(a);
  for (int i = 0; i < 2; i++) {
    dvec2 p = lx64_two_prod(s, s);
    precise double r = (a - p.x) - p.y;
    s = s + r / (2.0LF * s);
  }
  return s;
}

// ------------------------------------------------------------- exp and log
// ln 2 in three parts: k * LN2_HI is exact for |k| < 2^11.
const double LX64_LN2_HI = 0.6931471805598903LF;
const double LX64_LN2_MID = 5.497923018708371e-14LF;
const double LX64_LN2_LO = 1.94704509238075e-31LF;
const double LX64_LOG2E = 1.4426950408889634LF;

// e^(h + l) - 1 = 2^k (1 + s) - 1 with h + l = k ln2 + r, |r| <= ln2/2;
// returns s as a double-double (relative error about 2^-62) and k.
// |h| <= 746, |l| tiny next to h.
dvec2 lx64_exp_reduced(double h, double l, out int k) {
  precise double dk = floor(h * LX64_LOG2E + 0.5LF);
  precise double t = h - dk * LX64_LN2_HI; // exact
  dvec2 m = lx64_two_prod(dk, LX64_LN2_MID);
  dvec2 r = lx64_two_sum(t, -m.x);
  precise double r_lo0 = r.y + ((l - m.y) - dk * LX64_LN2_LO);
  r = lx64_fast_two_sum(r.x, r_lo0);
  // e^r_hi - 1 = r + r^2/2 + r^3 P(r), Taylor to r^14 (truncation below
  // 2^-63); then e^r - 1 = (e^r_hi - 1) + r_lo e^r_hi.
  precise double x = r.x;
  precise double p = 1.1470745597729725e-11LF;
  p = p * x + 1.6059043836821613e-10LF;
  p = p * x + 2.08767569878681e-09LF;
  p = p * x + 2.505210838544172e-08LF;
  p = p * x + 2.755731922398589e-07LF;
  p = p * x + 2.7557319223985893e-06LF;
  p = p * x + 2.48015873015873e-05LF;
  p = p * x + 0.0001984126984126984LF;
  p = p * x + 0.001388888888888889LF;
  p = p * x + 0.008333333333333333LF;
  p = p * x + 0.041666666666666664LF;
  p = p * x + 0.16666666666666666LF;
  dvec2 sq = lx64_two_prod(x, x);
  precise double cube = (sq.x * x) * p;
  dvec2 s = lx64_two_sum(x, 0.5LF * sq.x);
  precise double lo = s.y + (0.5LF * sq.y + cube);
  s = lx64_fast_two_sum(s.x, lo);
  precise double lo2 = s.y + r.y * (1.0LF + s.x);
  k = int(dk);
  return lx64_fast_two_sum(s.x, lo2);
}

// e^(h + l), h within [-746, 710]; overflow and underflow come out of the
// final scaling, rounded once.
double lx64_exp_dd(double h, double l) {
  int k;
  dvec2 s = lx64_exp_reduced(h, l, k);
  dvec2 one = lx64_fast_two_sum(1.0LF, s.x);
  precise double p = one.x + (one.y + s.y);
  return lx64_scale(p, k);
}

double lx64_exp(double x) {
  if (isnan(x)) return lx64_quiet(x);
  if (x > 709.7827128933841LF) return lx64_inf(); // rounds past DBL_MAX
  if (x < -745.1332191019412LF) return 0.0LF; // below 2^-1075
  return lx64_exp_dd(x, 0.0LF);
}

// e^t - 1 for 0 <= t <= 50, as a double-double.
dvec2 lx64_expm1_dd(double t) {
  int k;
  dvec2 s = lx64_exp_reduced(t, 0.0LF, k);
  if (k == 0) return s;
  double p = lx64_pow2(k);
  dvec2 a = lx64_two_sum(p, -1.0LF); // 2^k - 1
  return lx64_dd_add(a, dvec2(s.x * p, s.y * p));
}

// ln(x) as a double-double (relative error about 2^-64) for a finite x > 0.
// x = 2^e f, f in [sqrt(1/2), sqrt(2)), ln f = 2 atanh(u), u = (f-1)/(f+1),
// |u| < 0.172: the series' first two terms in double-double, the rest
// (below 2^-12 of the result) in double.
dvec2 lx64_log_dd(double x) {
  uvec2 b = unpackDouble2x32(x);
  int e = 0;
  if (b.y < 0x00100000u) { // subnormal: normalise exactly
    b = unpackDouble2x32(x * 18014398509481984.0LF); // 2^54
    e = -54;
  }
  e += int(b.y >> 20) - 1023;
  precise double f = packDouble2x32(uvec2(b.x, (b.y & 0x000fffffu) | 0x3ff00000u));
  if (f > 1.4142135623730951LF) {
    f = f * 0.5LF;
    e += 1;
  }
  precise double n = f - 1.0LF; // exact
  dvec2 d = lx64_two_sum(f, 1.0LF);
  dvec2 u = lx64_dd_div(dvec2(n, 0.0LF), d);
  dvec2 z = lx64_dd_mul(u, u);
  precise double zz = z.x;
  precise double rr = 1.0LF / 27.0LF;
  rr = rr * zz + 1.0LF / 25.0LF;
  rr = rr * zz + 1.0LF / 23.0LF;
  rr = rr * zz + 1.0LF / 21.0LF;
  rr = rr * zz + 1.0LF / 19.0LF;
  rr = rr * zz + 1.0LF / 17.0LF;
  rr = rr * zz + 1.0LF / 15.0LF;
  rr = rr * zz + 1.0LF / 13.0LF;
  rr = rr * zz + 1.0LF / 11.0LF;
  rr = rr * zz + 1.0LF / 9.0LF;
  rr = rr * zz + 1.0LF / 7.0LF;
  rr = rr * zz + 1.0LF / 5.0LF;
  // q = 1/3 + z/5 + z^2/7 + ... ; ln f = 2u + 2u z q.
  dvec2 q = lx64_dd_add(dvec2(0.3333333333333333LF, 1.850371707708594e-17LF), dvec2(zz * rr, 0.0LF));
  dvec2 t = lx64_dd_mul(lx64_dd_mul(u, z), q);
  dvec2 lnf = lx64_dd_add(dvec2(2.0LF * u.x, 2.0LF * u.y), dvec2(2.0LF * t.x, 2.0LF * t.y));
  double de = double(e);
  dvec2 m = lx64_two_prod(de, LX64_LN2_MID);
  dvec2 el = lx64_fast_two_sum(de * LX64_LN2_HI, m.x); // de * LN2_HI is exact
  el.y += m.y + de * LX64_LN2_LO;
  if (e == 0) return lnf;
  return lx64_dd_add(el, lnf);
}

double lx64_log(double x) {
  if (isnan(x)) return lx64_quiet(x);
  if (x == 0.0LF) return -lx64_inf();
  if (x < 0.0LF) return lx64_nan();
  if (isinf(x)) return x;
  dvec2 r = lx64_log_dd(x);
  return r.x;
}

// --------------------------------------------------------- tanh, sigmoid
double lx64_tanh(double x) {
  if (isnan(x)) return lx64_quiet(x);
  precise double a = abs(x);
  if (a < 3.725290298461914e-09LF) return x; // 2^-28: x^3/3 is below half an ulp
  precise double t;
  if (a > 22.0LF) {
    t = 1.0LF; // 1 - tanh(a) < 2^-62
  } else {
    // tanh(a) = m / (m + 2), m = e^2a - 1 in double-double: no cancellation
    // for small a, nothing lost to 1 - 2/(e^2a + 1) for large.
    dvec2 m = lx64_expm1_dd(2.0LF * a);
    dvec2 q = lx64_dd_div(m, lx64_dd_add(m, dvec2(2.0LF, 0.0LF)));
    t = q.x;
  }
  return x < 0.0LF ? -t : t;
}

// The CPU's formula, each step rounded as there: exp within an ulp of
// glibc's, then a correctly rounded sum and quotient.
double lx64_sigmoid(double x) {
  if (isnan(x)) return lx64_quiet(x);
  if (x >= 0.0LF) {
    precise double d = 1.0LF + lx64_exp(-x);
    return lx64_div(1.0LF, d);
  }
  precise double e = lx64_exp(x);
  precise double d = 1.0LF + e;
  if (d == 1.0LF) return e; // e / 1, e possibly subnormal
  return lx64_div(e, d);
}

// -------------------------------------------------------------------- pow
// C99's special cases exactly; otherwise e^(y ln|x|) with ln|x| and the
// product in double-double.
double lx64_pow(double x, double y) {
  uvec2 bx = unpackDouble2x32(x), by = unpackDouble2x32(y);
  uint ax = bx.y & 0x7fffffffu, ay = by.y & 0x7fffffffu;
  bool y_zero = ay == 0u && by.x == 0u;
  bool x_one = bx.y == 0x3ff00000u && bx.x == 0u;
  if (y_zero || x_one) return 1.0LF; // x^0 and 1^y, NaNs included
  if (isnan(x)) return lx64_quiet(x);
  if (isnan(y)) return lx64_quiet(y);
  bool y_neg = (by.y & 0x80000000u) != 0u;
  bool x_neg = (bx.y & 0x80000000u) != 0u;
  precise double ax_d = abs(x);
  if (isinf(y)) {
    if (ax_d == 1.0LF) return 1.0LF; // (-1)^inf
    return (ax_d > 1.0LF) != y_neg ? lx64_inf() : 0.0LF;
  }
  // y_kind: 0 not an integer, 1 odd integer, 2 even integer.
  int ye = int(ay >> 20) - 1023;
  int y_kind;
  if (ye >= 53) y_kind = 2;
  else if (ye < 0) y_kind = 0;
  else {
    // fraction bits: the low 52 - ye bits of the significand
    int nf = 52 - ye;
    bool frac;
    uint unit; // the bit of weight 1
    if (nf >= 32) {
      frac = by.x != 0u || (nf > 32 && (ay & ((1u << uint(nf - 32)) - 1u)) != 0u);
      unit = nf == 52 ? 1u : (ay >> uint(nf - 32)) & 1u; // ye == 0: the implicit bit
    } else {
      frac = nf > 0 && (by.x & ((1u << uint(nf)) - 1u)) != 0u;
      unit = nf == 32 ? (ay & 1u) : (by.x >> uint(nf)) & 1u;
    }
    y_kind = frac ? 0 : (unit != 0u ? 1 : 2);
  }
  bool neg_result = x_neg && y_kind == 1;
  precise double r;
  if (ax_d == 0.0LF) r = y_neg ? lx64_inf() : 0.0LF;
  else if (isinf(x)) r = y_neg ? 0.0LF : lx64_inf();
  else if (x_neg && y_kind == 0) return lx64_nan();
  else if (y == 1.0LF) r = ax_d;
  else if (y == 2.0LF) r = ax_d * ax_d;
  else if (y == -1.0LF && ax_d > 1e-300LF && ax_d < 1e300LF) r = lx64_div(1.0LF, ax_d);
  else {
    dvec2 ln = lx64_log_dd(ax_d);
    precise double l0 = y * ln.x;
    if (l0 > 709.79LF) r = lx64_inf();
    else if (l0 < -745.2LF) r = 0.0LF;
    else {
      dvec2 p = lx64_two_prod(y, ln.x);
      precise double lo = p.y + y * ln.y;
      dvec2 h = lx64_fast_two_sum(p.x, lo);
      r = lx64_exp_dd(h.x, h.y);
    }
  }
  return neg_result ? -r : r;
}

// ---------------------------------------------------------------- sin, cos
// pi/2 in parts: k * P1 and k * P2 are exact for |k| < 2^20.
const double LX64_PIO2_1 = 1.5707963267341256LF;
const double LX64_PIO2_2 = 6.077100506303966e-11LF;
const double LX64_PIO2_3 = 2.0222662487959506e-21LF;
const double LX64_PIO2_3LO = 1.0085854035872483e-37LF;
const dvec2 LX64_PIO2 = dvec2(1.5707963267948966LF, 6.123233995736766e-17LF);

// The bits of 2/pi after the binary point (two zero words in front).
const uint LX64_TWO_OVER_PI[43] = uint[](
  0u, 0u, 0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u,
  0xdb629599u, 0x3c439041u, 0xfe5163abu, 0xdebbc561u, 0xb7246e3au, 0x424dd2e0u,
  0x06492eeau, 0x09d1921cu, 0xfe1deb1cu, 0xb129a73eu, 0xe88235f5u, 0x2ebb4484u,
  0xe99c7026u, 0xb45f7e41u, 0x3991d639u, 0x835339f4u, 0x9c845f8bu, 0xbdf9283bu,
  0x1ff897ffu, 0xde05980fu, 0xef2f118bu, 0x5a0a6d1fu, 0x6d367ecfu, 0x27cb09b7u,
  0x4f463f66u, 0x9e5fea2du, 0x7527bac7u, 0xebe5f17bu, 0x3d0739f7u, 0x8a5292eau,
  0x6bfb5fb1u, 0x1f8d5d08u, 0x56033046u, 0xfc7b6babu, 0xf0cfbc20u, 0x9af4361du,
  0xa9e39161u);

// 32 bits of 2/pi from bit j on (bit 1 is the first after the point; bits
// at j <= 0 are zero), j >= -63.
uint lx64_two_over_pi(int j) {
  int g = j + 63;
  int w = g >> 5;
  uint s = uint(g & 31);
  uint a = LX64_TWO_OVER_PI[w];
  return s == 0u ? a : (a << s) | (LX64_TWO_OVER_PI[w + 1] >> (32u - s));
}

uint lx64_shl(uint hi, uint lo, uint s) { return s == 0u ? hi : (hi << s) | (lo >> (32u - s)); }

// |x| >= 2^20: Payne-Hanek in integer arithmetic. The 53-bit significand
// times a 192-bit window of 2/pi (bits that would only add whole turns left
// out) gives |x| 2/pi modulo 4 with 190 fraction bits, the window's
// truncation below 2^-135: ample for the closest doubles to a multiple of
// pi/2 (about 2^-61 away). Returns r (hi + lo) and the quadrant.
dvec2 lx64_reduce_large(double x, out int quad) {
  uvec2 b = unpackDouble2x32(x);
  uint hi = b.y & 0x7fffffffu;
  int e = int(hi >> 20) - 1023 - 52; // x = m 2^e
  uint m0 = b.x, m1 = (hi & 0x000fffffu) | 0x00100000u;
  uint v[6], r[6];
  for (int i = 0; i < 6; i++) {
    v[i] = lx64_two_over_pi(e - 1 + 32 * (5 - i)); // least significant first
    r[i] = 0u;
  }
  uint carry = 0u;
  for (int i = 0; i < 6; i++) {
    uint h, l, c;
    umulExtended(m0, v[i], h, l);
    r[i] = uaddCarry(l, carry, c);
    carry = h + c;
  }
  carry = 0u;
  for (int i = 0; i < 5; i++) {
    uint h, l, c1, c2;
    umulExtended(m1, v[i], h, l);
    uint t = uaddCarry(l, carry, c1);
    r[i + 1] = uaddCarry(r[i + 1], t, c2);
    carry = h + c1 + c2;
  }
  // r / 2^190 = |x| 2/pi mod 4.
  uint q = r[5] >> 30;
  r[5] &= 0x3fffffffu;
  bool negate = false;
  if ((r[5] & 0x20000000u) != 0u) { // past half a quadrant: round up
    q += 1u;
    negate = true;
    uint c = 1u;
    for (int i = 0; i < 6; i++) r[i] = uaddCarry(~r[i], c, c);
    r[5] &= 0x3fffffffu;
  }
  int k = 5;
  while (k > 0 && r[k] == 0u) k--;
  dvec2 f = dvec2(0.0LF);
  if (r[k] != 0u) {
    uint lz = uint(31 - findMSB(r[k]));
    uint w1 = k >= 1 ? r[k - 1] : 0u, w2 = k >= 2 ? r[k - 2] : 0u, w3 = k >= 3 ? r[k - 3] : 0u;
    uint a0 = lx64_shl(r[k], w1, lz), a1 = lx64_shl(w1, w2, lz), a2 = lx64_shl(w2, w3, lz);
    int s = 32 * k - int(lz) - 190;
    precise double d0 = double(a0) * lx64_pow2(s);
    precise double d1 = double(a1) * lx64_pow2(s - 32);
    precise double d2 = double(a2) * lx64_pow2(s - 64);
    f = lx64_fast_two_sum(d0, d1);
    f = lx64_fast_two_sum(f.x, f.y + d2);
    f = lx64_dd_mul(f, LX64_PIO2);
  }
  if (negate != (x < 0.0LF)) f = -f;
  if (x < 0.0LF) q = 0u - q;
  quad = int(q & 3u);
  return f;
}

// x = quad pi/2 + r (mod 2 pi), |r| <= about pi/4, r as hi + lo.
dvec2 lx64_reduce(double x, out int quad) {
  if (abs(x) >= 1048576.0LF) return lx64_reduce_large(x, quad);
  precise double k = floor(x * 0.6366197723675814LF + 0.5LF);
  precise double t = x - k * LX64_PIO2_1; // exact
  dvec2 r = lx64_two_sum(t, -(k * LX64_PIO2_2)); // k * P2 is exact
  dvec2 m = lx64_two_prod(k, LX64_PIO2_3);
  r = lx64_dd_add(r, dvec2(-m.x, -(m.y + k * LX64_PIO2_3LO)));
  quad = int(k) & 3;
  return r;
}

// Taylor kernels on |y| <= pi/4 + tiny (truncation below 2^-62), y = hi + lo.
double lx64_sin_kernel(dvec2 y) {
  precise double x = y.x;
  precise double z = x * x;
  precise double p = -8.22063524662433e-18LF;
  p = p * z + 2.8114572543455206e-15LF;
  p = p * z - 7.647163731819816e-13LF;
  p = p * z + 1.6059043836821613e-10LF;
  p = p * z - 2.505210838544172e-08LF;
  p = p * z + 2.7557319223985893e-06LF;
  p = p * z - 0.0001984126984126984LF;
  p = p * z + 0.008333333333333333LF;
  p = p * z - 0.16666666666666666LF;
  // sin(hi + lo) = sin(hi) + lo cos(hi)
  precise double tail = (z * x) * p + y.y * (1.0LF - 0.5LF * z);
  precise double res = x + tail;
  return res;
}
double lx64_cos_kernel(dvec2 y) {
  precise double x = y.x;
  dvec2 z = lx64_two_prod(x, x);
  precise double zz = z.x;
  precise double p = 4.110317623312165e-19LF;
  p = p * zz - 1.5619206968586225e-16LF;
  p = p * zz + 4.779477332387385e-14LF;
  p = p * zz - 1.1470745597729725e-11LF;
  p = p * zz + 2.08767569878681e-09LF;
  p = p * zz - 2.755731922398589e-07LF;
  p = p * zz + 2.48015873015873e-05LF;
  p = p * zz - 0.001388888888888889LF;
  p = p * zz + 0.041666666666666664LF;
  precise double hz = 0.5LF * zz;
  precise double w = 1.0LF - hz;
  // cos(hi + lo) = cos(hi) - lo sin(hi)
  precise double res = w + ((((1.0LF - w) - hz) - 0.5LF * z.y) + (zz * zz * p - x * y.y));
  return res;
}

// cos(x) = sin(x + pi/2): one function, quadrant shifted.
double lx64_sincos(double x, int shift) {
  if (isnan(x)) return lx64_quiet(x);
  if (isinf(x)) return lx64_nan();
  if (abs(x) < 7.450580596923828e-09LF) return shift == 0 ? x : 1.0LF; // 2^-27
  int quad = 0;
  dvec2 r = abs(x) < 0.7853981633974483LF ? dvec2(x, 0.0LF) : lx64_reduce(x, quad);
  quad = (quad + shift) & 3;
  double v = (quad & 1) == 0 ? lx64_sin_kernel(r) : lx64_cos_kernel(r);
  return quad >= 2 ? -v : v;
}
double lx64_sin(double x) { return lx64_sincos(x, 0); }
double lx64_cos(double x) { return lx64_sincos(x, 1); }

// ------------------------------------------------------------ erf, erf_inv
// float64 erf is libm's on the CPU. Here: |x| < 2.5 the Maclaurin series
// 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)) in double-double (its
// cancellation, up to 2^4 at 2.5, costs nothing at 106 bits); 2.5 <= |x| < 6
// 1 - erfc(x), erfc from its continued fraction (40 terms: relative error
// below 2^-50, and erfc < 2^-11 there); |x| >= 6 rounds to +-1.
const dvec2 LX64_ERF_SERIES[46] = dvec2[](
  dvec2(1.0LF, 0.0LF),
  dvec2(-0.3333333333333333LF, -1.850371707708594e-17LF),
  dvec2(0.1LF, -5.551115123125783e-18LF),
  dvec2(-0.023809523809523808LF, -1.32169407693471e-18LF),
  dvec2(0.004629629629629629LF, 2.569960705150825e-19LF),
  dvec2(-0.0007575757575757576LF, -6.570922257487906e-22LF),
  dvec2(0.00010683760683760684LF, 9.266685234918841e-23LF),
  dvec2(-1.3227513227513228e-05LF, 5.532155926405864e-22LF),
  dvec2(1.4589169000933706e-06LF, 1.009163436691398e-22LF),
  dvec2(-1.4503852223150468e-07LF, -2.75729942161183e-24LF),
  dvec2(1.3122532963802806e-08LF, -7.589026085854777e-25LF),
  dvec2(-1.0892221037148573e-09LF, -2.691902001941988e-26LF),
  dvec2(8.35070279514724e-11LF, -1.2104650565335437e-27LF),
  dvec2(-5.9477940136376354e-12LF, 3.715898253979538e-28LF),
  dvec2(3.9554295164585257e-13LF, 7.122590604424395e-30LF),
  dvec2(-2.466827010264457e-14LF, 1.2997717914814896e-30LF),
  dvec2(1.4483264643598138e-15LF, -6.435992101166303e-32LF),
  dvec2(-8.032735012415773e-17LF, -3.308132020922888e-33LF),
  dvec2(4.221407288807088e-18LF, 9.59729713379293e-36LF),
  dvec2(-2.107855191442136e-19LF, 9.137436977439183e-36LF),
  dvec2(1.0025164934907719e-20LF, 1.0855031404807339e-37LF),
  dvec2(-4.5518467589282e-22LF, -4.044080705028019e-38LF),
  dvec2(1.977064753877905e-23LF, 7.235097150976344e-40LF),
  dvec2(-8.230149299214221e-25LF, -3.1987343288500793e-41LF),
  dvec2(3.289260349175752e-26LF, -1.8062049010893843e-42LF),
  dvec2(-1.2641078988989164e-27LF, 3.438576901836804e-44LF),
  dvec2(4.6784835155184856e-29LF, 1.891993179275806e-45LF),
  dvec2(-1.669761793417372e-30LF, 1.013850414899155e-46LF),
  dvec2(5.754191643982172e-32LF, 3.4743327034819636e-49LF),
  dvec2(-1.9169428621097826e-33LF, 4.821061050543619e-50LF),
  dvec2(6.180307588222796e-35LF, -1.4054086363469381e-52LF),
  dvec2(-1.930357208815108e-36LF, 1.340591136523051e-52LF),
  dvec2(5.846755007468836e-38LF, 4.773814048936838e-54LF),
  dvec2(-1.7188560628017835e-39LF, -7.939863225541608e-56LF),
  dvec2(4.908923964523423e-41LF, -2.513068496700591e-57LF),
  dvec2(-1.3630412617791396e-42LF, -9.20209142019209e-60LF),
  dvec2(3.6824935154611457e-44LF, 5.9717516732678784e-61LF),
  dvec2(-9.687280238870761e-46LF, -6.470871028328701e-62LF),
  dvec2(2.483069097454912e-47LF, -1.6877554101206816e-63LF),
  dvec2(-6.205657919637397e-49LF, 2.208570752253768e-65LF),
  dvec2(1.5131079495412172e-50LF, -9.07781614273522e-67LF),
  dvec2(-3.601579309810126e-52LF, -2.1424962701435235e-68LF),
  dvec2(8.373419683872282e-54LF, -4.8568142008768276e-70LF),
  dvec2(-1.9025412272898796e-55LF, 1.1470981807442353e-71LF),
  dvec2(4.2267897541935526e-57LF, -1.9550579922591095e-74LF),
  dvec2(-9.186429502398686e-59LF, 1.8459054691537982e-75LF));
const dvec2 LX64_TWO_OVER_SQRTPI = dvec2(1.1283791670955126LF, 1.533545961316588e-17LF);

double lx64_erf(double x) {
  if (isnan(x)) return lx64_quiet(x);
  if (x == 0.0LF) return x; // keeps -0
  precise double a = abs(x);
  if (a >= 6.0LF) return x < 0.0LF ? -1.0LF : 1.0LF;
  precise double r;
  if (a < 2.5LF) {
    // Terms past n leave less than 2^-62 of the sum.
    int n = a < 0.5LF ? 15 : a < 1.0LF ? 22 : a < 1.8LF ? 34 : 45;
    dvec2 z = lx64_two_prod(a, a);
    dvec2 s = LX64_ERF_SERIES[n];
    for (int i = n - 1; i >= 0; i--) s = lx64_dd_add(lx64_dd_mul(s, z), LX64_ERF_SERIES[i]);
    s = lx64_dd_mul(s, LX64_TWO_OVER_SQRTPI);
    s = lx64_dd_mul_d(s, a);
    r = s.x;
  } else {
    // erfc(a) = e^-a^2 / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / ...))),
    // the fraction's convergents A/B by the forward recurrence: no
    // division until the end.
    precise double a2 = a;
    precise double A0 = 1.0LF, A1 = a2, B0 = 0.0LF, B1 = 1.0LF;
    for (int i = 1; i <= 40; i++) {
      precise double c = 0.5LF * double(i);
      precise double A2 = a2 * A1 + c * A0;
      precise double B2 = a2 * B1 + c * B0;
      A0 = A1;
      A1 = A2;
      B0 = B1;
      B1 = B2;
    }
    dvec2 sq = lx64_two_prod(a, a);
    precise double e = lx64_exp_dd(-sq.x, -sq.y) * 0.5641895835477563LF; // 1/sqrt(pi)
    precise double erfc = lx64_div(e * B1, A1);
    r = 1.0LF - erfc;
  }
  return x < 0.0LF ? -r : r;
}

// log1p(y) for -1 < y <= 0: ln(1 + y) with 1 + y as an exact pair.
double lx64_log1p_neg(double y) {
  dvec2 u = lx64_two_sum(1.0LF, y);
  dvec2 l = lx64_log_dd(u.x);
  precise double r = l.x + (l.y + lx64_div(u.y, u.x));
  return r;
}

// Giles' double-precision polynomials, as runtime/cpu/cpu_special.h
// evaluates them (no fused operations), in w = -log1p(-x^2).
const double LX64_GILES_A[23] = double[](
  -3.6444120640178196996e-21LF, -1.685059138182016589e-19LF, 1.2858480715256400167e-18LF,
  1.115787767802518096e-17LF, -1.333171662854620906e-16LF, 2.0972767875968561637e-17LF,
  6.6376381343583238325e-15LF, -4.0545662729752068639e-14LF, -8.1519341976054721522e-14LF,
  2.6335093153082322977e-12LF, -1.2975133253453532498e-11LF, -5.4154120542946279317e-11LF,
  1.051212273321532285e-09LF, -4.1126339803469836976e-09LF, -2.9070369957882005086e-08LF,
  4.2347877827932403518e-07LF, -1.3654692000834678645e-06LF, -1.3882523362786468719e-05LF,
  0.0001867342080340571352LF, -0.00074070253416626697512LF, -0.0060336708714301490533LF,
  0.24015818242558961693LF, 1.6536545626831027356LF);
const double LX64_GILES_B[19] = double[](
  2.2137376921775787049e-09LF, 9.0756561938885390979e-08LF, -2.7517406297064545428e-07LF,
  1.8239629214389227755e-08LF, 1.5027403968909827627e-06LF, -4.013867526981545969e-06LF,
  2.9234449089955446044e-06LF, 1.2475304481671778723e-05LF, -4.7318229009055733981e-05LF,
  6.8284851459573175448e-05LF, 2.4031110387097893999e-05LF, -0.0003550375203628474796LF,
  0.00095328937973738049703LF, -0.0016882755560235047313LF, 0.0024914420961078508066LF,
  -0.0037512085075692412107LF, 0.005370914553590063617LF, 1.0052589676941592334LF,
  3.0838856104922207635LF);
const double LX64_GILES_C[17] = double[](
  -2.7109920616438573243e-11LF, -2.5556418169965252055e-10LF, 1.5076572693500548083e-09LF,
  -3.7894654401267369937e-09LF, 7.6157012080783393804e-09LF, -1.4960026627149240478e-08LF,
  2.9147953450901080826e-08LF, -6.7711997758452339498e-08LF, 2.2900482228026654717e-07LF,
  -9.9298272942317002539e-07LF, 4.5260625972231537039e-06LF, -1.9681778105531670567e-05LF,
  7.5995277030017761139e-05LF, -0.00021503011930044477347LF, -0.00013871931833623122026LF,
  1.0103004648645343977LF, 4.8499064014085844221LF);

double lx64_erf_inv(double x) {
  if (isnan(x)) return lx64_quiet(x);
  precise double ax = abs(x);
  if (ax == 1.0LF) return x * lx64_inf();
  if (ax > 1.0LF) return lx64_nan();
  precise double y = -(x * x);
  precise double w = -lx64_log1p_neg(y);
  precise double p;
  if (w < 6.25LF) {
    w = w - 3.125LF;
    p = LX64_GILES_A[0];
    for (int i = 1; i < 23; i++) p = LX64_GILES_A[i] + p * w;
  } else if (w < 16.0LF) {
    w = lx64_sqrt(w) - 3.25LF;
    p = LX64_GILES_B[0];
    for (int i = 1; i < 19; i++) p = LX64_GILES_B[i] + p * w;
  } else {
    w = lx64_sqrt(w) - 5.0LF;
    p = LX64_GILES_C[0];
    for (int i = 1; i < 17; i++) p = LX64_GILES_C[i] + p * w;
  }
  precise double r = p * x;
  return r;
}
