// The lesson's pictures without matplotlib: a grid of digits with their labels
// (imshow), a trained network's first-layer weights as images, and the loss
// curve as an SVG line plot.
//   write_png(digit_grid(mnist.train.images, mnist.train.labels, 0, 40, 10), "digits.png");
//   write_file_atomically("loss.svg", loss_curve_svg(mlp.loss_curve(), mlp.validation_scores()));
#pragma once

#include <dagrad/core/tensor.hpp>
#include <dagrad/io/idx.hpp>
#include <dagrad/io/image.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dagrad {

// Sizes of digit_grid's and weight_images' layout, in output pixels.
inline constexpr std::size_t picture_margin = 4;   // around and between tiles
inline constexpr std::size_t label_height = 20;    // the band under a digit for its label
inline constexpr std::size_t font_scale = 2;       // the 5x7 font drawn 2x: 10x14 glyphs

// Images [first, first+count) as tiles, `columns` to a row, each drawn `scale`
// times its size as MNIST stores it (white ink on black), with its label
// written in black underneath, on a white page. Tile k's top-left pixel is at
// row picture_margin + (k / columns) * (rows*scale + label_height + picture_margin),
// column picture_margin + (k % columns) * (cols*scale + picture_margin).
// Throws Error if the range passes the end of the images or labels.
Image digit_grid(const Images& images, std::span<const std::uint8_t> labels, std::size_t first,
                 std::size_t count, std::size_t columns, std::size_t scale = 2);

// Each column of first_layer_coefs (784 x hidden: MLPClassifier::coefs()[0])
// as a 28x28 tile (any square number of rows works), `scale` times enlarged:
// weight 0 is mid gray (128), the largest |weight| in the whole matrix is black
// (negative) or white (positive), so tiles compare with each other. Tiles sit
// on a white page, placed as in digit_grid without the label band.
Image weight_images(const Matrix<double>& first_layer_coefs, std::size_t columns, std::size_t scale = 2);

// An SVG line plot of the training loss per iteration (left axis) and, when
// given, the validation score per iteration (right axis, early_stopping's
// validation_scores()) and the held-out rows' loss (dashed, on the loss's
// axis: validation_loss_curve()): axes, ticks, labels, title and legend, one
// <polyline> per series.
std::string loss_curve_svg(const std::vector<double>& loss, const std::vector<double>& validation_scores = {},
                           const std::string& title = "Training loss",
                           const std::vector<double>& validation_loss = {});

// `text` drawn with dagrad's 5x7 bitmap font (digits, A-Z, space and a few
// signs; others show as a box) into a 1-channel image at (top, left), each
// font pixel a scale x scale block of `shade`. Returns the width drawn.
std::size_t draw_text(Image& image, const std::string& text, std::size_t top, std::size_t left,
                      std::size_t scale, std::uint8_t shade);

}  // namespace dagrad
