// fmath.glsl — float32 arithmetic for the unary and binary shaders.
//
// Vulkan lets a device divide with 2.5 ulp of error, take square roots
// through an inverse square root, and compute exp/log/sin/cos/tanh/pow with
// loose or only-in-range error bounds (sin and cos: absolute 2^-11 inside
// [-pi, pi], nothing outside). The CPU backend uses correctly rounded
// division and square root, and libm. So here division and square root are
// exact (integer checks on the device's guess), and the transcendental
// functions are written out with exact range reduction, polynomials and
// float-float corrections, using only +, -, * (which Vulkan requires to be
// correctly rounded) and integer operations. `precise` keeps a driver from
// fusing a*b+c, which would break the error-free transformations.
//
// Measured on lavapipe against the exact values: exp, log, sin, cos, tanh
// and pow are within 1 ulp (exp, log and pow differ from glibc's float32
// results in under 0.5% of cases, sin/cos in about 2.5%); float16 and
// bfloat16 results, rounded from these, match the CPU's. Results that are
// float32 denormals, and denormal inputs to +, -, *, depend on whether the
// device flushes denormals, which Vulkan leaves to it.
//
// Invalid operations return x86's default NaN (0xffc00000) and NaN inputs
// come back quieted, as the CPU backend's results do on x86.

#define LX_NAN_BITS 0xffc00000u
#define LX_INF_BITS 0x7f800000u

// --------------------------------------------- 64-bit integers as two words
// (x = low word, y = high word): exact checks without needing shaderInt64.
uvec2 u64_mul(uint a, uint b) {
  uvec2 r;
  umulExtended(a, b, r.y, r.x);
  return r;
}
uvec2 u64_sub(uvec2 a, uvec2 b) {
  uint borrow;
  uint lo = usubBorrow(a.x, b.x, borrow);
  return uvec2(lo, a.y - b.y - borrow);
}
bool u64_lt(uvec2 a, uvec2 b) { return a.y < b.y || (a.y == b.y && a.x < b.x); }
// Low word of v >> s, for s in [-31, 63] (a negative s shifts left).
uint u64_bits(uvec2 v, int s) {
  if (s < 0) return v.x << uint(-s);
  if (s == 0) return v.x;
  if (s < 32) return (v.x >> uint(s)) | (v.y << uint(32 - s));
  return v.y >> uint(s - 32);
}

// 2^k as a float for k in [-126, 127].
float lx_pow2(int k) { return uintBitsToFloat(uint(k + 127) << 23); }

// A finite non-zero float32 magnitude as sig * 2^(e - 23), sig in
// [2^23, 2^24); denormals are normalised here, not by the float unit.
void lx_decode(uint mag, out uint sig, out int e) {
  uint ef = mag >> 23;
  if (ef == 0u) {
    int msb = findMSB(mag);
    sig = mag << uint(23 - msb);
    e = msb - 149;
  } else {
    sig = (mag & 0x7fffffu) | 0x800000u;
    e = int(ef) - 127;
  }
}

// ---------------------------------------------------------------- division
// Correctly rounded float32 a / b on bit patterns, subnormal results
// included.
uint lx_fdiv_bits(uint a, uint b) {
  uint sign = (a ^ b) & 0x80000000u;
  uint ma = a & 0x7fffffffu, mb = b & 0x7fffffffu;
  if (ma > LX_INF_BITS) return a | 0x400000u;
  if (mb > LX_INF_BITS) return b | 0x400000u;
  if (ma == LX_INF_BITS) return mb == LX_INF_BITS ? LX_NAN_BITS : sign | LX_INF_BITS;
  if (mb == LX_INF_BITS) return sign;
  if (mb == 0u) return ma == 0u ? LX_NAN_BITS : sign | LX_INF_BITS;
  if (ma == 0u) return sign;
  uint sa, sb;
  int ea, eb;
  lx_decode(ma, sa, ea);
  lx_decode(mb, sb, eb);
  // q = floor(sa * 2^shift / sb) lands in [2^23, 2^24).
  int e = ea - eb;
  uint shift = 23u;
  if (sa < sb) {
    shift = 24u;
    e -= 1;
  }
  uvec2 num = uvec2(sa << shift, sa >> (32u - shift));
  // The device's division is within a few ulps: start there, then fix q
  // until 0 <= num - q * sb < sb.
  float guess = float(sa) / float(sb) * float(1u << shift);
  uint q = clamp(uint(guess), 0x800000u, 0xffffffu);
  uvec2 prod = u64_mul(q, sb);
  for (int k = 0; k < 8 && u64_lt(num, prod); k++) {
    q--;
    prod = u64_sub(prod, uvec2(sb, 0u));
  }
  uvec2 rem = u64_sub(num, prod);
  for (int k = 0; k < 8 && !u64_lt(rem, uvec2(sb, 0u)); k++) {
    q++;
    rem = u64_sub(rem, uvec2(sb, 0u));
  }
  uint r = rem.x; // < sb < 2^24
  int biased = e + 127;
  if (biased >= 255) return sign | LX_INF_BITS;
  if (biased >= 1) {
    if (2u * r > sb || (2u * r == sb && (q & 1u) != 0u)) q++;
    // q carries its implicit bit into the exponent field; a rounding carry
    // rolls on, up to infinity.
    return sign | min((uint(biased - 1) << 23) + q, LX_INF_BITS);
  }
  // Subnormal result: round q * 2^(biased - 1), the remainder is sticky.
  uint sh = uint(1 - biased);
  if (sh > 25u) return sign;
  uint kept = q >> sh, rest = q & ((1u << sh) - 1u), half_way = 1u << (sh - 1u);
  if (rest > half_way || (rest == half_way && (r != 0u || (kept & 1u) != 0u))) kept++;
  return sign | kept;
}

float lx_fdiv(float a, float b) {
  return uintBitsToFloat(lx_fdiv_bits(floatBitsToUint(a), floatBitsToUint(b)));
}

// ------------------------------------------------------------- square root
// Correctly rounded float32 sqrt on bit patterns.
uint lx_fsqrt_bits(uint a) {
  uint mag = a & 0x7fffffffu;
  if (mag > LX_INF_BITS) return a | 0x400000u;
  if (mag == 0u) return a; // sqrt(-0) = -0
  if ((a & 0x80000000u) != 0u) return LX_NAN_BITS;
  if (mag == LX_INF_BITS) return a;
  uint s;
  int e;
  lx_decode(mag, s, e);
  // M = s * 2^k with an even exponent left over, so that sqrt(M) has
  // exactly 24 integer bits: the result's significand.
  uint k = (e & 1) == 0 ? 23u : 24u;
  uvec2 m = uvec2(s << k, s >> (32u - k));
  float guess = sqrt(uintBitsToFloat(((150u + k) << 23) | (s & 0x7fffffu)));
  uint r = clamp(uint(guess), 0x800000u, 0xffffffu);
  uvec2 sq = u64_mul(r, r);
  for (int i = 0; i < 8 && u64_lt(m, sq); i++) {
    r--;
    sq = u64_mul(r, r);
  }
  for (int i = 0; i < 8; i++) {
    uvec2 next = u64_mul(r + 1u, r + 1u);
    if (u64_lt(m, next)) break;
    r++;
    sq = next;
  }
  // Round up iff M >= r^2 + r + 1 (the half-way point is never an integer).
  uvec2 rem = u64_sub(m, sq);
  if (rem.y != 0u || rem.x > r) r++;
  int half_e = (e - 23 - int(k)) / 2; // exact: the difference is even
  return (uint(23 + half_e + 126) << 23) + r;
}

// ------------------------------------------------------------ exp and log
const float LX_LN2_HI = 6.93145751953125e-1;   // 0x3f317200: k * LN2_HI is exact
const float LX_LN2_LO = 1.428606765330187e-6;  // 0x35bfbe8e
const float LX_LOG2E = 1.4426950216293335;

// a + b = sum + err exactly (Knuth's two-sum, any magnitudes).
float lx_two_sum(float a, float b, out float err) {
  precise float sum = a + b;
  precise float bb = sum - a;
  precise float e = (a - (sum - bb)) + (b - bb);
  err = e;
  return sum;
}

// (e^r - 1 - r) / r^2 for |r| <= ln2/2: Taylor to r^8 (truncation below
// 2^-31).
float lx_expm1_tail(float r) {
  precise float p = 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  return p;
}

// p * 2^k for k in [-150, 128], rounding once when the result is subnormal.
float lx_scale(float p, int k) {
  precise float v = p;
  if (k > 127) {
    v = v * 2.0;
    k -= 1;
  }
  if (k < -126) {
    v = v * lx_pow2(k + 126); // still normal: exact
    k = -126;
  }
  v = v * lx_pow2(k);
  return v;
}

// e^(h + l) for |l| tiny next to h; the caller has sent the overflow and
// underflow cases elsewhere (h within about [-105, 89]).
float lx_exp_ff(float h, float l) {
  // h + l = k ln2 + r, e^(h + l) = 2^k (1 + s): the roundings of r and s
  // are carried in low parts and added once, at the end, so the result is
  // off by little more than half an ulp (libm's expf is correctly rounded).
  precise float k = floor(h * LX_LOG2E + 0.5);
  precise float t = h - k * LX_LN2_HI; // exact
  float r_lo, s_lo;
  precise float r = lx_two_sum(t, -(k * LX_LN2_LO), r_lo);
  precise float q = (r * r) * lx_expm1_tail(r);
  precise float s = lx_two_sum(r, q, s_lo);
  precise float hi = 1.0 + s;
  precise float lo = (((1.0 - hi) + s) + s_lo) + (r_lo + l) * (1.0 + s); // 1 >= |s|
  precise float p = hi + lo;
  return lx_scale(p, int(k));
}

float lx_exp(float x) {
  uint b = floatBitsToUint(x);
  if ((b & 0x7fffffffu) > LX_INF_BITS) return uintBitsToFloat(b | 0x400000u);
  if (x >= uintBitsToFloat(0x42b17218u)) return uintBitsToFloat(LX_INF_BITS); // rounds past FLT_MAX
  if (x < uintBitsToFloat(0xc2cff1b4u)) return 0.0; // below 2^-150
  return lx_exp_ff(x, 0.0);
}

// a * b = prod + err exactly (Dekker's product: no fma needed, nor trusted).
float lx_two_prod(float a, float b, out float err) {
  precise float p = a * b;
  precise float ca = 4097.0 * a;
  precise float ah = ca - (ca - a);
  precise float al = a - ah;
  precise float cb = 4097.0 * b;
  precise float bh = cb - (cb - b);
  precise float bl = b - bh;
  precise float e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  err = e;
  return p;
}

// 1/c and -ln(1/c) (as hi + lo) for c = 1 + j/64, j = -19..27: the table
// of lx_log_ff.
const vec3 LX_LOG_TABLE[47] = vec3[](
  vec3(1.4222222566604614, -0.3522206246852875, 6.88154866423929e-09),
  vec3(1.39130437374115, -0.33024170994758606, 4.450557700153013e-09),
  vec3(1.3617020845413208, -0.3087354600429535, 1.0058307964300184e-08),
  vec3(1.3333333730697632, -0.28768211603164673, 1.3777543550475002e-08),
  vec3(1.3061224222183228, -0.2670627534389496, -1.1320999249164743e-08),
  vec3(1.2799999713897705, -0.2468600571155548, 1.5357710658747692e-09),
  vec3(1.2549020051956177, -0.22705748677253723, 7.46933959128171e-10),
  vec3(1.2307692766189575, -0.2076393961906433, -5.840503636278527e-09),
  vec3(1.2075471878051758, -0.18859118223190308, -2.476808091955718e-09),
  vec3(1.185185194015503, -0.16989904642105103, 2.1750730105907223e-09),
  vec3(1.163636326789856, -0.15154986083507538, -5.627157406706829e-09),
  vec3(1.1428571939468384, -0.13353143632411957, -1.0038856412819541e-09),
  vec3(1.1228070259094238, -0.11583182215690613, -8.187961419992007e-10),
  vec3(1.1034482717514038, -0.09844006597995758, -3.1080047424580926e-09),
  vec3(1.0847457647323608, -0.08134564012289047, -1.1937071331402649e-09),
  vec3(1.0666667222976685, -0.06453857570886612, 2.4172321921867024e-09),
  vec3(1.049180269241333, -0.04800916463136673, 1.324362175481042e-09),
  vec3(1.0322580337524414, -0.03174866735935211, -1.1529053267622658e-09),
  vec3(1.0158730745315552, -0.015748415142297745, 4.3216061285100693e-10),
  vec3(1.0, 0.0, 0.0),
  vec3(0.9846153855323792, 0.015504186041653156, -4.3701048335620385e-10),
  vec3(0.9696969985961914, 0.03077162802219391, 8.422378350303461e-10),
  vec3(0.9552238583564758, 0.045809559524059296, -2.0970045144785843e-10),
  vec3(0.9411764740943909, 0.0606246180832386, 7.905949332698281e-12),
  vec3(0.9275362491607666, 0.0752234011888504, 1.422285844654425e-09),
  vec3(0.9142857193946838, 0.08961215615272522, -3.050973473861518e-09),
  vec3(0.9014084339141846, 0.1037968099117279, 2.396367326795712e-09),
  vec3(0.8888888955116272, 0.11778302490711212, 3.2986906539633765e-09),
  vec3(0.8767123222351074, 0.13157635927200317, 5.967296878850448e-09),
  vec3(0.8648648858070374, 0.14518198370933533, 1.9207759827111204e-09),
  vec3(0.8533333539962769, 0.15860500931739807, -3.3551461608993804e-09),
  vec3(0.8421052694320679, 0.17185024917125702, 3.048216401513315e-10),
  vec3(0.8311688303947449, 0.18492233753204346, 1.893291079468895e-09),
  vec3(0.8205128312110901, 0.19782572984695435, 4.4444958824385594e-10),
  vec3(0.8101266026496887, 0.2105647474527359, -3.491095412755385e-09),
  vec3(0.800000011920929, 0.2231435328722, 3.540848725336332e-09),
  vec3(0.790123462677002, 0.23556606471538544, -8.531991224636215e-10),
  vec3(0.7804877758026123, 0.24783620238304138, -1.2255564341145941e-09),
  vec3(0.7710843086242676, 0.25995755195617676, 9.733652994725617e-09),
  vec3(0.761904776096344, 0.2719337046146393, -7.75744890546548e-09),
  vec3(0.7529411911964417, 0.2837681472301483, 6.342722347341123e-09),
  vec3(0.7441860437393188, 0.2954642176628113, -1.0436851383133217e-09),
  vec3(0.7356321811676025, 0.3070250451564789, -6.136276820001285e-09),
  vec3(0.7272727489471436, 0.31845369935035706, 1.965855700447605e-09),
  vec3(0.7191011309623718, 0.3297532796859741, -3.5580545176827627e-09),
  vec3(0.7111111283302307, 0.34092655777931213, 4.976894452113356e-09),
  vec3(0.7032967209815979, 0.3519763946533203, 3.3581486480471767e-09));

// ln(x) as hi + lo (about 2^-36 relative) for a finite x > 0 given by its
// bits: x = 2^e f, f in [sqrt(1/2), sqrt(2)), and f = c (1 + u) with c from
// the table, so that |u| < 0.0112 and the series of ln(1 + u) converges
// fast. u is exact (Dekker), as is its square; the rest is small enough for
// plain float arithmetic. pow needs the low part; log rounds hi + lo.
float lx_log_ff(uint mag, out float lo) {
  uint sig;
  int e;
  lx_decode(mag, sig, e);
  float f = uintBitsToFloat(0x3f800000u | (sig & 0x7fffffu));
  if (f > 1.41421356) {
    f *= 0.5;
    e += 1;
  }
  vec3 entry = LX_LOG_TABLE[int(floor((f - 1.0) * 64.0 + 0.5)) + 19];
  float p_lo, u_lo, sq_lo, e1, e2, e3;
  precise float p = lx_two_prod(f, entry.x, p_lo);
  precise float u = lx_two_sum(p - 1.0, p_lo, u_lo); // p - 1 is exact
  precise float sq = lx_two_prod(u, u, sq_lo);
  precise float tail = u * sq * (1.0 / 3.0 + u * (-0.25 + u * (0.2 + u * (-1.0 / 6.0))));
  float dk = float(e);
  // e ln2 + (-ln(1/c)) + u - u^2/2 + tail, the big terms summed exactly.
  precise float s1 = lx_two_sum(dk * LX_LN2_HI, entry.y, e1); // dk * LN2_HI is exact
  precise float s2 = lx_two_sum(s1, u, e2);
  precise float s3 = lx_two_sum(s2, -0.5 * sq, e3);
  precise float small = (e1 + e2 + e3) + (dk * LX_LN2_LO + entry.z + u_lo - 0.5 * sq_lo - u * u_lo + tail);
  precise float hi = s3 + small;
  precise float l = (s3 - hi) + small;
  lo = l;
  return hi;
}

float lx_log(float x) {
  uint b = floatBitsToUint(x);
  uint mag = b & 0x7fffffffu;
  if (mag > LX_INF_BITS) return uintBitsToFloat(b | 0x400000u);
  if (mag == 0u) return -uintBitsToFloat(LX_INF_BITS);
  if ((b & 0x80000000u) != 0u) return uintBitsToFloat(LX_NAN_BITS);
  if (mag == LX_INF_BITS) return x;
  float lo;
  return lx_log_ff(mag, lo); // hi is hi + lo rounded
}

// --------------------------------------------------------- tanh, sigmoid
float lx_tanh(float x) {
  uint b = floatBitsToUint(x);
  uint mag = b & 0x7fffffffu;
  if (mag > LX_INF_BITS) return uintBitsToFloat(b | 0x400000u);
  if (mag < 0x39000000u) return x; // |x| < 2^-13: x^3/3 is below half an ulp
  float a = uintBitsToFloat(mag);
  float t;
  if (a < 0.625) {
    // tanh(a) = a + a^3 Q(a^2), Q a Chebyshev fit of degree 5 on this
    // range (below 0.75 ulp in float32 arithmetic): e^2a - 1 would carry
    // its own rounding into the small result.
    precise float z = a * a;
    precise float q = 0.002292744815349579;
    q = q * z - 0.008343945257365704;
    q = q * z + 0.02176891826093197;
    q = q * z - 0.053959257900714874;
    q = q * z + 0.13333304226398468;
    q = q * z - 0.3333333432674408;
    precise float r = a + a * (z * q);
    t = r;
  } else if (a >= 9.1) {
    t = 1.0; // 1 - tanh(a) < 2^-25
  } else {
    // 1 - 2 / (e^2a + 1): the rounding of the sum hardly matters once it
    // is large, and the result is no smaller than 0.55.
    float d = lx_fdiv(2.0, lx_exp(2.0 * a) + 1.0);
    precise float r = 1.0 - d;
    t = r;
  }
  return uintBitsToFloat(floatBitsToUint(t) | (b & 0x80000000u));
}

// The CPU's formula: neither overflows nor cancels for large |x|.
float lx_sigmoid(float x) {
  if (x >= 0.0) return lx_fdiv(1.0, 1.0 + lx_exp(-x));
  float e = lx_exp(x);
  return lx_fdiv(e, 1.0 + e);
}

// ---------------------------------------------------------------- sin, cos
// pi/2 in three parts: k * P1 and k * P2 are exact for |k| < 2^12.
const float LX_PIO2_1 = 1.5703125;                 // 0x3fc90000
const float LX_PIO2_2 = 4.837512969970703125e-4;   // 0x39fda000
const float LX_PIO2_3 = 7.549790126404332e-8;      // 0x33a22169
const float LX_PIO2_HI = 1.5707963705062866;       // 0x3fc90fdb
const float LX_PIO2_LO = -4.371138828673793e-8;    // 0xb33bbd2e

// The bits of 2/pi after the binary point, a zero word in front.
const uint LX_TWO_OVER_PI[9] = uint[](0u, 0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u,
                                      0xdb629599u, 0x3c439041u, 0xfe5163abu, 0xdebbc561u);

// 32 bits of 2/pi starting at bit j (bit 1 is the first after the point;
// bits at j <= 0 are zero).
uint lx_two_over_pi(int j) {
  int p = j + 31;
  int w = p >> 5;
  uint s = uint(p & 31);
  uint a = LX_TWO_OVER_PI[w];
  return s == 0u ? a : (a << s) | (LX_TWO_OVER_PI[w + 1] >> (32u - s));
}

// |x| >= 2^12: exact reduction (Payne-Hanek) in integer arithmetic. The
// significand times a 96-bit window of 2/pi gives |x| * 2/pi modulo 4 with
// 94 fraction bits, enough for the closest float32 approaches to a multiple
// of pi/2. Returns r as hi + lo.
float lx_reduce_large(uint b, out float lo, out int quad) {
  uint mag = b & 0x7fffffffu;
  int e = int(mag >> 23) - 127;
  uint m = (mag & 0x7fffffu) | 0x800000u;
  // Bits of 2/pi before i0 contribute whole multiples of 4 quadrants.
  int i0 = e - 24;
  uint w0 = lx_two_over_pi(i0), w1 = lx_two_over_pi(i0 + 32), w2 = lx_two_over_pi(i0 + 64);
  uint h0, l0, h1, l1, h2, l2;
  umulExtended(m, w0, h0, l0);
  umulExtended(m, w1, h1, l1);
  umulExtended(m, w2, h2, l2);
  // Product words r2:r1:r0 (the word above holds whole turns), times 2^-94.
  uint c1, c2, c3;
  uint r0 = l2;
  uint r1 = uaddCarry(h2, l1, c1);
  uint t = uaddCarry(h1, l0, c2);
  uint r2 = uaddCarry(t, c1, c3);
  uint q = r2 >> 30;
  uvec2 frac = uvec2((r1 << 2) | (r0 >> 30), (r2 << 2) | (r1 >> 30)); // * 2^-64
  bool negate = false;
  if ((frac.y & 0x80000000u) != 0u) { // past half a quadrant: round up
    q += 1u;
    frac = u64_sub(uvec2(0u), frac);
    negate = true;
  }
  float hi = 0.0;
  lo = 0.0;
  if (frac != uvec2(0u)) {
    int msb = frac.y != 0u ? 32 + findMSB(frac.y) : findMSB(frac.x);
    // The fraction as a float pair, then times pi/2 as a float pair.
    precise float f_hi = float(u64_bits(frac, msb - 23) & 0xffffffu) * lx_pow2(msb - 87);
    precise float f_lo = msb < 16 ? 0.0 : float(u64_bits(frac, msb - 47) & 0xffffffu) * lx_pow2(msb - 111);
    float big_err;
    precise float big = lx_two_prod(f_hi, LX_PIO2_HI, big_err);
    precise float small = (f_hi * LX_PIO2_LO + f_lo * LX_PIO2_HI) + big_err;
    precise float sum = big + small;
    precise float err = (big - sum) + small;
    hi = sum;
    lo = err;
  }
  if (negate != ((b & 0x80000000u) != 0u)) {
    hi = -hi;
    lo = -lo;
  }
  if ((b & 0x80000000u) != 0u) q = 0u - q;
  quad = int(q & 3u);
  return hi;
}

// x = quad * pi/2 + (hi + lo) (mod 2 pi), |hi| <= about pi/4; lo carries
// what rounding hi lost, as fdlibm's kernels expect.
float lx_reduce(float x, out float lo, out int quad) {
  uint b = floatBitsToUint(x);
  if ((b & 0x7fffffffu) >= 0x45800000u) return lx_reduce_large(b, lo, quad);
  float e1;
  precise float k = floor(x * 0.63661977 + 0.5);
  precise float t = x - k * LX_PIO2_1; // exact
  precise float r1 = lx_two_sum(t, -(k * LX_PIO2_2), e1); // k * P2 is exact
  precise float w3 = k * LX_PIO2_3;
  precise float hi = r1 - w3;
  precise float e2 = ((r1 - hi) - w3) + e1; // |r1| >= |w3|
  quad = int(k) & 3;
  lo = e2;
  return hi;
}

// fdlibm's kernels with Taylor coefficients (truncation below 2^-30 on
// |x| <= pi/4), y the low part of the argument.
float lx_sin_kernel(float x, float y) {
  precise float z = x * x;
  precise float v = z * x;
  precise float r = 1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362880.0 + z * (-1.0 / 39916800.0)));
  precise float res = x - ((z * (0.5 * y - v * r) - y) - v * (-1.0 / 6.0));
  return res;
}
float lx_cos_kernel(float x, float y) {
  precise float z = x * x;
  precise float r = z * (1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40320.0 + z * (-1.0 / 3628800.0 + z * (1.0 / 479001600.0)))));
  precise float hz = 0.5 * z;
  precise float w = 1.0 - hz;
  precise float res = w + (((1.0 - w) - hz) + (z * r - x * y));
  return res;
}

// cos(x) = sin(x + pi/2): one function, quadrant shifted.
float lx_sincos(float x, int shift) {
  uint b = floatBitsToUint(x);
  uint mag = b & 0x7fffffffu;
  if (mag > LX_INF_BITS) return uintBitsToFloat(b | 0x400000u);
  if (mag == LX_INF_BITS) return uintBitsToFloat(LX_NAN_BITS);
  if (mag < 0x39800000u) return shift == 0 ? x : 1.0; // |x| < 2^-12
  int quad;
  float lo;
  float hi = lx_reduce(x, lo, quad);
  quad = (quad + shift) & 3;
  float v = (quad & 1) == 0 ? lx_sin_kernel(hi, lo) : lx_cos_kernel(hi, lo);
  return quad >= 2 ? -v : v;
}
float lx_sin(float x) { return lx_sincos(x, 0); }
float lx_cos(float x) { return lx_sincos(x, 1); }

// -------------------------------------------------------------------- pow
// C99's special cases exactly; otherwise e^(y ln|x|) in extended precision
// (within about an ulp).
float lx_pow(float x, float y) {
  uint bx = floatBitsToUint(x), by = floatBitsToUint(y);
  uint ax = bx & 0x7fffffffu, ay = by & 0x7fffffffu;
  if (ay == 0u || bx == 0x3f800000u) return 1.0; // x^0 and 1^y, NaNs included
  if (ax > LX_INF_BITS) return uintBitsToFloat(bx | 0x400000u);
  if (ay > LX_INF_BITS) return uintBitsToFloat(by | 0x400000u);
  bool y_neg = (by & 0x80000000u) != 0u;
  if (ay == LX_INF_BITS) {
    if (ax == 0x3f800000u) return 1.0; // (-1)^inf
    return (ax > 0x3f800000u) != y_neg ? uintBitsToFloat(LX_INF_BITS) : 0.0;
  }
  // y_kind: 0 not an integer, 1 odd integer, 2 even integer.
  int ye = int(ay >> 23) - 127;
  int y_kind;
  if (ye >= 24) y_kind = 2;
  else if (ye < 0) y_kind = 0;
  else if ((ay & (0x7fffffu >> uint(ye))) != 0u) y_kind = 0;
  else y_kind = ((ay >> uint(23 - ye)) & 1u) != 0u ? 1 : 2;
  uint sign = ((bx & 0x80000000u) != 0u && y_kind == 1) ? 0x80000000u : 0u;
  if (ax == 0u) return uintBitsToFloat(sign | (y_neg ? LX_INF_BITS : 0u));
  if (ax == LX_INF_BITS) return uintBitsToFloat(sign | (y_neg ? 0u : LX_INF_BITS));
  if ((bx & 0x80000000u) != 0u && y_kind == 0) return uintBitsToFloat(LX_NAN_BITS);
  // Exponents whose answer is one correctly rounded operation.
  if (by == 0x3f800000u) return x;
  if (by == 0x40000000u) return x * x;
  if (by == 0xbf800000u) return lx_fdiv(1.0, x);
  if (by == 0x3f000000u) return uintBitsToFloat(lx_fsqrt_bits(bx));
  // |x|^y = e^(y ln|x|) with y ln|x| as hi + lo: the product's rounding
  // would otherwise cost |y ln|x|| ulps.
  float ln_lo, l_lo;
  float ln_hi = lx_log_ff(ax, ln_lo);
  precise float l0 = y * ln_hi;
  float r;
  if (l0 > 89.0) r = uintBitsToFloat(LX_INF_BITS);
  else if (l0 < -105.0) r = 0.0;
  else {
    precise float l_hi = lx_two_prod(y, ln_hi, l_lo);
    precise float lo = l_lo + y * ln_lo;
    precise float h = l_hi + lo;
    precise float l = (l_hi - h) + lo;
    r = lx_exp_ff(h, l);
  }
  return uintBitsToFloat(floatBitsToUint(r) | sign);
}

// ------------------------------------------------------------ erf, erf_inv
// XLA's float32 formulas, as runtime/cpu/cpu_special.h: erf is XLA:CPU's
// current rational approximation (fused multiply-adds, +-1 from |x| >=
// 3.8325); erf_inv is Giles' single-precision polynomial in
// w = -log1p(-x^2).

// a * b + c rounded once, from an exact product and an exact sum (Vulkan's
// own fma may round twice): correct but for rare double roundings.
float lx_fma(float a, float b, float c) {
  float pl, sl;
  precise float ph = lx_two_prod(a, b, pl);
  precise float sh = lx_two_sum(ph, c, sl);
  precise float r = sh + (pl + sl);
  return r;
}

float lx_erf(float x) {
  if (isnan(x)) return x;
  if (abs(x) >= 3.832506856900711) return x < 0.0 ? -1.0 : 1.0;
  precise float x2 = x * x;
  float p = lx_fma(x2, 0.00022905065861350646, 0.0034082910107109506);
  p = lx_fma(x2, p, 0.050955695062380861);
  p = lx_fma(x2, p, 0.18520832239976145);
  p = lx_fma(x2, p, 1.128379143519084);
  precise float xp = x * p;
  float q = lx_fma(x2, -1.1791602954361697e-7, 0.000023547966471313185);
  q = lx_fma(x2, q, 0.0010179625278914885);
  q = lx_fma(x2, q, 0.014070470171167667);
  q = lx_fma(x2, q, 0.11098505178285362);
  q = lx_fma(x2, q, 0.49746925110067538);
  q = lx_fma(x2, q, 1.0);
  return lx_fdiv(xp, q);
}

// log1p(y) for y in [-1, 0]: ln(1 + y) with 1 + y rounded, corrected by the
// rounding error (exact here: u - 1 and y - (u - 1) are).
float lx_log1p_neg(float y) {
  precise float u = 1.0 + y;
  if (u == 1.0) return y;
  if (u == 0.0) return -uintBitsToFloat(LX_INF_BITS);
  float lo;
  float hi = lx_log_ff(floatBitsToUint(u), lo);
  precise float corr = y - (u - 1.0);
  precise float r = hi + (lo + lx_fdiv(corr, u));
  return r;
}

float lx_erf_inv(float x) {
  if (isnan(x)) return x;
  float ax = abs(x);
  if (ax == 1.0) return x * uintBitsToFloat(LX_INF_BITS);
  if (ax > 1.0) return uintBitsToFloat(LX_NAN_BITS);
  precise float xx = x * x;
  precise float w = -lx_log1p_neg(-xx);
  precise float p;
  if (w < 5.0) {
    w = w - 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = uintBitsToFloat(lx_fsqrt_bits(floatBitsToUint(w))) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  precise float r = p * x;
  return r;
}
