#include <dagrad/viz/pictures.hpp>
#include <dagrad/viz/summary.hpp>

#include <dagrad/core/autodiff.hpp>
#include <dagrad/core/executor.hpp>
#include <dagrad/core/ops.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using dagrad::Image;
using dagrad::label_height;
using dagrad::picture_margin;

namespace {

std::size_t count_of(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

// Three 2x2 images: image k is all (k+1)*60, except pixel (1, 0) which is 5.
dagrad::Images three_images() {
  dagrad::Images im;
  im.count = 3;
  im.rows = 2;
  im.cols = 2;
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < 4; ++i) im.pixels.push_back(i == 2 ? 5 : static_cast<std::uint8_t>((k + 1) * 60));
  }
  return im;
}

}  // namespace

TEST_CASE("digit_grid lays tiles out in rows with their labels underneath") {
  const dagrad::Images im = three_images();
  const std::vector<std::uint8_t> labels{7, 1, 4};
  const std::size_t scale = 3;
  const Image grid = dagrad::digit_grid(im, labels, 1, 2, 1, scale);  // images 1 and 2, one per row
  const std::size_t cell_h = 2 * scale + label_height + picture_margin;
  CHECK(grid.channels == 1);
  CHECK(grid.width == picture_margin + 2 * scale + picture_margin);
  CHECK(grid.height == picture_margin + 2 * cell_h);
  CHECK(grid.at(0, 0) == 255);  // the white page
  // Image 1 (all 120) is the first tile; image 2 (all 180) the second, one row down.
  CHECK(grid.at(picture_margin, picture_margin) == 120);
  CHECK(grid.at(picture_margin + cell_h, picture_margin) == 180);
  // Pixel (1, 0) of image 2 is a scale x scale block of 5.
  CHECK(grid.at(picture_margin + cell_h + scale, picture_margin) == 5);
  CHECK(grid.at(picture_margin + cell_h + 2 * scale - 1, picture_margin + scale - 1) == 5);
  CHECK(grid.at(picture_margin + cell_h + scale, picture_margin + scale) == 180);
  // The label band under the first tile holds black ink (the "1"), and only black or white.
  std::size_t ink = 0;
  for (std::size_t r = picture_margin + 2 * scale; r < picture_margin + 2 * scale + label_height; ++r) {
    for (std::size_t c = 0; c < grid.width; ++c) {
      ink += grid.at(r, c) == 0;
      CHECK((grid.at(r, c) == 0 || grid.at(r, c) == 255));
    }
  }
  CHECK(ink > 0);
  CHECK_THROWS_AS(dagrad::digit_grid(im, labels, 2, 2, 1), dagrad::Error);
}

TEST_CASE("draw_text draws different digits differently") {
  Image a = dagrad::make_image(7, 5, 1, 255), b = a;
  dagrad::draw_text(a, "1", 0, 0, 1, 0);
  dagrad::draw_text(b, "7", 0, 0, 1, 0);
  CHECK(a != b);
  CHECK(a.at(0, 2) == 0);    // the 1's stem
  CHECK(b.at(0, 0) == 0);    // the 7's bar
  CHECK(a.at(0, 0) == 255);
}

TEST_CASE("weight_images draws each unit's column as a tile, 0 as gray, scaled by the largest weight") {
  // 4 pixels (2x2 images) by 3 hidden units.
  dagrad::Matrix<double> w = dagrad::Matrix<double>::Zero(4, 3);
  w(1, 0) = 2.0;   // unit 0, pixel (0, 1): the largest weight, white
  w(2, 2) = -2.0;  // unit 2, pixel (1, 0): black
  w(3, 1) = 1.0;   // unit 1, pixel (1, 1): half way to white
  const std::size_t scale = 2, columns = 2, cell = 2 * scale + picture_margin;
  const Image im = dagrad::weight_images(w, columns, scale);
  CHECK(im.width == picture_margin + 2 * cell);
  CHECK(im.height == picture_margin + 2 * cell);
  auto tile = [&](std::size_t j, std::size_t r, std::size_t c) {
    return im.at(picture_margin + (j / columns) * cell + r * scale, picture_margin + (j % columns) * cell + c * scale);
  };
  CHECK(tile(0, 0, 1) == 255);
  CHECK(tile(0, 0, 0) == 128);
  CHECK(tile(1, 1, 1) == 192);  // 128 + 127/2, rounded
  CHECK(tile(2, 1, 0) == 1);    // 128 - 127
  CHECK(tile(2, 0, 0) == 128);
  CHECK(im.at(0, 0) == 255);    // the page around the tiles
  CHECK_THROWS_AS(dagrad::weight_images(dagrad::Matrix<double>::Zero(5, 3), 2), dagrad::ShapeError);
}

TEST_CASE("loss_curve_svg draws one polyline per series inside one svg element") {
  const std::string one = dagrad::loss_curve_svg({0.52, 0.25, 0.19}, {}, "a <title> & more");
  CHECK(one.rfind("<svg", 0) == 0);
  CHECK(one.find("</svg>") == one.size() - std::string("</svg>\n").size());
  CHECK(count_of(one, "<polyline") == 1);
  CHECK(count_of(one, "<svg") == 1);
  CHECK(one.find("a &lt;title&gt; &amp; more") != std::string::npos);
  CHECK(one.find("validation") == std::string::npos);

  const std::string two = dagrad::loss_curve_svg({0.5, 0.3, 0.2, 0.1}, {0.90, 0.93, 0.95, 0.96});
  CHECK(count_of(two, "<polyline") == 2);
  CHECK(two.find("validation score") != std::string::npos);
  CHECK_THROWS_AS(dagrad::loss_curve_svg({}), dagrad::Error);
  CHECK_THROWS_AS(dagrad::loss_curve_svg({0.5, NAN}), dagrad::Error);

  // The held-out loss, dashed, shares the loss's axis: its larger values
  // widen the axis (here to 2.5) and show in the legend.
  const std::string three =
      dagrad::loss_curve_svg({0.5, 0.3, 0.2, 0.1}, {0.90, 0.93, 0.95, 0.96}, "loss", {2.4, 0.4, 0.3, 0.35});
  CHECK(count_of(three, "<polyline") == 3);
  CHECK(count_of(three, "stroke-dasharray") == 2);  // its line and its legend's
  CHECK(three.find("validation loss") != std::string::npos);
  CHECK(three.find(">2.5</text>") != std::string::npos);
  CHECK(two.find(">2.5</text>") == std::string::npos);
  CHECK_THROWS_WITH_AS(dagrad::loss_curve_svg({0.5}, {}, "loss", {INFINITY}), doctest::Contains("validation loss"),
                       dagrad::Error);
}

TEST_CASE("graph_summary of the 784-50-10 network lists its inputs, 39760 parameters and its ops") {
  dagrad::Graph g;
  dagrad::Node x = g.input("x", {dagrad::batch, 784});
  dagrad::Node y = g.input("y", {dagrad::batch, 10});
  dagrad::Node w1 = g.parameter("w1", {784, 50}), b1 = g.parameter("b1", {1, 50});
  dagrad::Node w2 = g.parameter("w2", {50, 10}), b2 = g.parameter("b2", {1, 10});
  dagrad::Node h = dagrad::relu(dagrad::add(dagrad::matmul(x, w1), b1));
  dagrad::Node loss = dagrad::softmax_cross_entropy(dagrad::add(dagrad::matmul(h, w2), b2), y);
  std::string s = dagrad::graph_summary(g);
  INFO(s);
  CHECK(s.find("total: 39760 parameters") != std::string::npos);
  CHECK(s.find("w1  784x50  39200") != std::string::npos);
  CHECK(s.find("x  ?x784") != std::string::npos);
  CHECK(s.find("matmul  2") != std::string::npos);
  CHECK(s.find("relu  1") != std::string::npos);
  CHECK(s.find("Backward") == std::string::npos);

  dagrad::gradients(loss, {w1, b1, w2, b2});
  s = dagrad::graph_summary(g);
  CHECK(s.find("Backward ops") != std::string::npos);
  CHECK(s.find("total: 39760 parameters") != std::string::npos);  // gradients add no parameters
}

TEST_CASE("progress_bar: a bar filled in proportion, redrawn in place, cleared at the epoch's end") {
  const std::string clear = "\r\033[K";
  CHECK(dagrad::progress_bar(3, 0, 60000) == clear + "epoch 3 [" + std::string(30, ' ') + "] 0/60000");
  CHECK(dagrad::progress_bar(3, 20000, 60000) == clear + "epoch 3 [" + std::string(10, '#') + std::string(20, ' ') +
                                             "] 20000/60000");
  CHECK(dagrad::progress_bar(3, 60000, 60000) == clear);  // done: the epoch's own line follows
  CHECK(dagrad::progress_bar(1, 0, 0) == clear);          // nothing to do
}

TEST_CASE("profile_table names the ops a fused group's root was computed with") {
  using namespace dagrad;
  Graph g;
  Node x = g.input("x", {batch, 64});
  Node w = g.parameter("w", {2, 9});
  Node b = g.parameter("b", {1, 2});
  Node conv = conv2d(x, w, {.in = {1, 8, 8}, .out_channels = 2, .kernel = 3, .padding = 1});
  g.rename(conv, "c/conv");
  Node z = add_channel_bias(conv, b);
  g.rename(z, "c/z");
  Node y = relu(z);
  g.rename(y, "c/y");
  Executor<float> ex(g, {.threads = 1, .profile = true});
  ex.set(w, Matrix<float>::Random(2, 9));
  ex.set(b, Matrix<float>::Random(1, 2));
  ex.run({{x, Matrix<float>::Random(16, 64)}}, {sum(y)});
  const std::vector<NodeTime> profile = ex.profile();
  bool found = false;
  for (const NodeTime& t : profile) {
    CHECK(t.node != conv);  // timed as part of its group
    if (t.node != y) continue;
    found = true;
    REQUIRE(t.with.size() == 2);
    CHECK(t.with[0] == conv);
    CHECK(t.with[1] == z);
  }
  CHECK(found);
  const std::string table = profile_table(profile, 1.0, 1);
  CHECK(table.find("c/y (relu), with c/conv (conv2d 1×8×8 → 2×8×8, 3×3 kernel, stride 1, padding 1), c/z "
                   "(add_channel_bias)") != std::string::npos);
}
