/*
** cpu_special.h — erf and its inverse as XLA computes them (xla/hlo/builder/
** lib/math.cc), so that jax.random.normal and truncated_normal, which go
** through erf_inv, give JAX's values. shaders/fmath.glsl has the same
** formulas for the Vulkan backend.
**
** float32 (and float16/bfloat16, computed in float32 as XLA does):
**   erf: XLA:CPU's current float32 erf (xla/codegen/intrinsics, Eigen's
**   generic_fast_erf_float): x P(x^2) / Q(x^2) with fused multiply-adds,
**   +-1 from |x| >= 3.8325.
**   erf_inv: Giles' single-precision approximation ("Approximating the erfinv
**   function", GPU Computing Gems, 2011), w = -log1p(-x^2).
** float64: erf from libm; erf_inv with Giles' double-precision polynomials.
** erf_inv(+-1) is +-inf.
*/
#ifndef LX_CPU_SPECIAL_H
#define LX_CPU_SPECIAL_H

#include <math.h>

static inline float lx_erff(float x) {
  /* Beyond erfinv(1 - 2^-24) (about) erf rounds to +-1; NaN falls through. */
  if (fabsf(x) >= 3.832506856900711f) return copysignf(1.0f, x);
  float x2 = x * x;
  float p = fmaf(x2, 0.00022905065861350646f, 0.0034082910107109506f);
  p = fmaf(x2, p, 0.050955695062380861f);
  p = fmaf(x2, p, 0.18520832239976145f);
  p = fmaf(x2, p, 1.128379143519084f);
  p = x * p;
  float q = fmaf(x2, -1.1791602954361697e-7f, 0.000023547966471313185f);
  q = fmaf(x2, q, 0.0010179625278914885f);
  q = fmaf(x2, q, 0.014070470171167667f);
  q = fmaf(x2, q, 0.11098505178285362f);
  q = fmaf(x2, q, 0.49746925110067538f);
  q = fmaf(x2, q, 1.0f);
  return p / q;
}

static inline double lx_erf(double x) { return erf(x); }

static inline float lx_erf_invf(float x) {
  static const float lt5[9] = {2.81022636e-08f, 3.43273939e-07f, -3.5233877e-06f,
                               -4.39150654e-06f, 0.00021858087f, -0.00125372503f,
                               -0.00417768164f, 0.246640727f, 1.50140941f};
  static const float ge5[9] = {-0.000200214257f, 0.000100950558f, 0.00134934322f,
                               -0.00367342844f, 0.00573950773f, -0.0076224613f,
                               0.00943887047f, 1.00167406f, 2.83297682f};
  if (fabsf(x) == 1.0f) return x * INFINITY;
  float w = -log1pf(-x * x);
  const float *c;
  if (w < 5.0f) {
    w = w - 2.5f;
    c = lt5;
  } else {
    w = sqrtf(w) - 3.0f;
    c = ge5;
  }
  float p = c[0];
  for (int i = 1; i < 9; i++) p = c[i] + p * w;
  return p * x;
}

static inline double lx_erf_inv(double x) {
  static const double a[23] = {
    -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
    1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
    6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
    2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
    1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
    4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
    0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
    0.24015818242558961693, 1.6536545626831027356};
  static const double b[19] = {
    2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
    1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
    2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
    6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
    0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
    -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
    3.0838856104922207635};
  static const double c[17] = {
    -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
    -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
    2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
    -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
    7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
    1.0103004648645343977, 4.8499064014085844221};
  if (fabs(x) == 1.0) return x * INFINITY;
  double w = -log1p(-x * x);
  const double *k;
  int n;
  if (w < 6.25) {
    w -= 3.125;
    k = a;
    n = 23;
  } else if (w < 16.0) {
    w = sqrt(w) - 3.25;
    k = b;
    n = 19;
  } else {
    w = sqrt(w) - 5.0;
    k = c;
    n = 17;
  }
  double p = k[0];
  for (int i = 1; i < n; i++) p = k[i] + p * w;
  return p * x;
}

#endif
