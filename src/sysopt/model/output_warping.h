#pragma once
/// \file
/// \brief Output warping: a monotone power transform of objective values fitted to the data, so
/// that a Gaussian-process surrogate sees roughly Gaussian, homoscedastic targets whatever the
/// objective's shape (runtimes spanning decades, squared errors near 0, throughputs).
///
/// Box-Cox (G. E. P. Box and D. R. Cox, "An analysis of transformations", JRSS B 26(2), 1964) when
/// every value is positive, Yeo-Johnson (I.-K. Yeo and R. A. Johnson, "A new family of power
/// transformations to improve normality or symmetry", Biometrika 87(4), 2000) otherwise, with the
/// exponent chosen by maximum likelihood of a Gaussian on the transformed values, as HEBO does
/// (Cowen-Rivers et al., "HEBO: Pushing the limits of sample-efficient hyperparameter
/// optimisation", JAIR 74, 2022). Box-Cox with exponent 0 is the logarithm, so the transform
/// contains the classic log rule for runtimes and departs from it only where the data say so.
///
/// Thread safety: immutable after Fit; const members may run concurrently.

#include <string>
#include <vector>

namespace sysopt {

/// \brief Which family a fitted OutputWarping belongs to.
enum class WarpingFamily { kIdentity, kBoxCox, kYeoJohnson };

/// \brief A fitted monotone increasing transform of objective values (see the file comment).
class OutputWarping {
 public:
  /// \brief The identity.
  OutputWarping() = default;

  /// \brief Fits the transform to `y` (values to be minimised, finite). Fewer than 3 distinct
  /// values give the identity. The exponent is searched in [-2, 2].
  static OutputWarping Fit(const std::vector<double>& y);

  /// \brief True when Apply is defined at y (Box-Cox needs y > 0; the others take any y).
  bool Accepts(double y) const;
  /// \brief The transformed value; monotone increasing in y. Requires Accepts(y).
  double Apply(double y) const;
  /// \brief d Apply / dy at y (> 0), for mapping known noise variances (delta method).
  double Derivative(double y) const;

  WarpingFamily family() const { return family_; }
  /// \brief The fitted exponent (0 for the identity family).
  double lambda() const { return lambda_; }
  /// \brief E.g. "box-cox(0.31)": names the transform exactly, to tell whether two fits agree.
  std::string Describe() const;

 private:
  OutputWarping(WarpingFamily family, double lambda, double shift, double scale)
      : family_(family), lambda_(lambda), shift_(shift), scale_(scale) {}
  // The argument of the power: (y - shift_) / scale_ for Yeo-Johnson, y for Box-Cox.
  double Argument(double y) const { return (y - shift_) / scale_; }

  WarpingFamily family_ = WarpingFamily::kIdentity;
  double lambda_ = 0.0;
  double shift_ = 0.0;
  double scale_ = 1.0;
};

/// \brief Box-Cox transform of y > 0: (y^lambda - 1) / lambda, log(y) at lambda = 0.
double BoxCox(double y, double lambda);
/// \brief Yeo-Johnson transform of any real x.
double YeoJohnson(double x, double lambda);
/// \brief Profile log-likelihood of lambda for Box-Cox on `y` (all > 0), up to a constant.
double BoxCoxLogLikelihood(const std::vector<double>& y, double lambda);
/// \brief Profile log-likelihood of lambda for Yeo-Johnson on `x`, up to a constant.
double YeoJohnsonLogLikelihood(const std::vector<double>& x, double lambda);

}  // namespace sysopt
