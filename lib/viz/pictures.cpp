#include <dagrad/viz/pictures.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

namespace dagrad {

namespace {

struct Glyph {
  char c;
  std::array<const char*, 7> rows;  // 5 columns, '#' is ink
};

// A 5x7 font, enough for labels and short captions.
constexpr Glyph font[] = {
    {'0', {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "}},
    {'1', {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'2', {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"}},
    {'3', {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "}},
    {'4', {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "}},
    {'5', {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "}},
    {'6', {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "}},
    {'7', {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "}},
    {'8', {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "}},
    {'9', {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "}},
    {'A', {" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"}},
    {'B', {"#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "}},
    {'C', {" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "}},
    {'D', {"#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "}},
    {'E', {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"}},
    {'F', {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "}},
    {'G', {" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####"}},
    {'H', {"#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"}},
    {'I', {" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'J', {"  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "}},
    {'K', {"#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #"}},
    {'L', {"#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"}},
    {'M', {"#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"}},
    {'N', {"#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #"}},
    {'O', {" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "}},
    {'P', {"#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "}},
    {'Q', {" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #"}},
    {'R', {"#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"}},
    {'S', {" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "}},
    {'T', {"#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "}},
    {'U', {"#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "}},
    {'V', {"#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  "}},
    {'W', {"#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # "}},
    {'X', {"#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #"}},
    {'Y', {"#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  "}},
    {'Z', {"#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####"}},
    {' ', {"     ", "     ", "     ", "     ", "     ", "     ", "     "}},
    {'-', {"     ", "     ", "     ", "#####", "     ", "     ", "     "}},
    {'.', {"     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "}},
    {':', {"     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     "}},
    {'?', {" ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  "}},
};

const Glyph& glyph(char c) {
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph& g : font) {
    if (g.c == c) return g;
  }
  static const Glyph box{'\0', {"#####", "#   #", "#   #", "#   #", "#   #", "#   #", "#####"}};
  return box;
}

// A 1-2-5 step giving about `ticks` intervals over [lo, hi].
double nice_step(double lo, double hi, int ticks) {
  const double raw = (hi - lo) / ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * p) return m * p;
  }
  return 10.0 * p;
}

struct Axis {
  double lo, hi, step;
};

Axis nice_axis(const std::vector<double>& values) {
  double lo = *std::min_element(values.begin(), values.end());
  double hi = *std::max_element(values.begin(), values.end());
  if (!(hi > lo)) {
    const double pad = std::abs(lo) > 0 ? std::abs(lo) * 0.1 : 1.0;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(lo, hi, 5);
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

std::string number(double v, double step) {
  // Enough decimals to tell ticks `step` apart.
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-9 ? 0.0 : v);
  return buf;
}

std::string escape_xml(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void check_finite(const std::vector<double>& values, const char* what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw Error(std::string("loss_curve_svg: ") + what + " at iteration " + std::to_string(i + 1) +
                  " is not finite (" + std::to_string(values[i]) + ")");
    }
  }
}

}  // namespace

std::size_t draw_text(Image& image, const std::string& text, std::size_t top, std::size_t left,
                      std::size_t scale, std::uint8_t shade) {
  if (image.channels != 1) throw Error("draw_text: needs a 1-channel image, not " + std::to_string(image.channels));
  const std::size_t advance = 6 * scale;  // 5 columns and a space
  for (std::size_t k = 0; k < text.size(); ++k) {
    const Glyph& g = glyph(text[k]);
    for (std::size_t r = 0; r < 7; ++r) {
      for (std::size_t c = 0; c < 5; ++c) {
        if (g.rows[r][c] != '#') continue;
        for (std::size_t dy = 0; dy < scale; ++dy) {
          for (std::size_t dx = 0; dx < scale; ++dx) {
            const std::size_t y = top + r * scale + dy, x = left + k * advance + c * scale + dx;
            if (y < image.height && x < image.width) image.at(y, x) = shade;
          }
        }
      }
    }
  }
  return text.empty() ? 0 : text.size() * advance - scale;
}

Image digit_grid(const Images& images, std::span<const std::uint8_t> labels, std::size_t first,
                 std::size_t count, std::size_t columns, std::size_t scale) {
  if (count == 0 || columns == 0 || scale == 0) {
    throw Error("digit_grid: count, columns and scale must be positive (" + std::to_string(count) + ", " +
                std::to_string(columns) + ", " + std::to_string(scale) + ")");
  }
  if (first > images.count || count > images.count - first || first + count > labels.size()) {
    throw Error("digit_grid: images " + std::to_string(first) + " to " + std::to_string(first + count - 1) +
                " asked for, but there are " + std::to_string(images.count) + " images and " +
                std::to_string(labels.size()) + " labels");
  }
  const std::size_t tile_h = images.rows * scale, tile_w = images.cols * scale;
  const std::size_t cell_h = tile_h + label_height + picture_margin, cell_w = tile_w + picture_margin;
  const std::size_t grid_rows = (count + columns - 1) / columns, grid_cols = std::min(count, columns);
  Image page = make_image(picture_margin + grid_rows * cell_h, picture_margin + grid_cols * cell_w, 1, 255);
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t top = picture_margin + (k / columns) * cell_h;
    const std::size_t left = picture_margin + (k % columns) * cell_w;
    const std::uint8_t* pixels = images.pixels.data() + (first + k) * images.features();
    for (std::size_t y = 0; y < tile_h; ++y) {
      for (std::size_t x = 0; x < tile_w; ++x) page.at(top + y, left + x) = pixels[(y / scale) * images.cols + x / scale];
    }
    // The label, centred under the tile.
    const std::string text = std::to_string(int(labels[first + k]));
    const std::size_t text_w = text.size() * 6 * font_scale - font_scale;
    const std::size_t text_left = left + (tile_w > text_w ? (tile_w - text_w) / 2 : 0);
    draw_text(page, text, top + tile_h + (label_height - 7 * font_scale) / 2, text_left, font_scale, 0);
  }
  return page;
}

Image weight_images(const Matrix<double>& first_layer_coefs, std::size_t columns, std::size_t scale) {
  const std::size_t n = static_cast<std::size_t>(first_layer_coefs.rows());
  const std::size_t units = static_cast<std::size_t>(first_layer_coefs.cols());
  const std::size_t side = static_cast<std::size_t>(std::lround(std::sqrt(double(n))));
  if (n == 0 || units == 0 || side * side != n) {
    throw ShapeError("weight_images: the first layer's weights are " + to_string(shape_of(first_layer_coefs)) +
                     "; each unit's column must hold a square image's pixels (784 for 28x28)");
  }
  if (columns == 0 || scale == 0) throw Error("weight_images: columns and scale must be positive");
  const double largest = first_layer_coefs.cwiseAbs().maxCoeff();
  if (!std::isfinite(largest)) throw Error("weight_images: the weights hold a NaN or an infinity");
  const double gain = largest > 0 ? 127.0 / largest : 0.0;

  const std::size_t tile = side * scale, cell = tile + picture_margin;
  const std::size_t grid_rows = (units + columns - 1) / columns, grid_cols = std::min(units, columns);
  Image page = make_image(picture_margin + grid_rows * cell, picture_margin + grid_cols * cell, 1, 255);
  for (std::size_t j = 0; j < units; ++j) {
    const std::size_t top = picture_margin + (j / columns) * cell, left = picture_margin + (j % columns) * cell;
    for (std::size_t y = 0; y < tile; ++y) {
      for (std::size_t x = 0; x < tile; ++x) {
        const double w = first_layer_coefs(static_cast<Eigen::Index>((y / scale) * side + x / scale),
                                           static_cast<Eigen::Index>(j));
        page.at(top + y, left + x) = static_cast<std::uint8_t>(std::lround(128.0 + gain * w));
      }
    }
  }
  return page;
}

namespace {

// The loss curve's frame: a plot area with the losses on the left axis, the
// iterations along the bottom and, when there are validation scores, those
// on a right axis of their own.
class CurvePlot {
 public:
  CurvePlot(std::size_t iterations, bool right_axis) : right_(right_axis ? 80 : 30) {
    x_hi_ = std::max<double>(double(iterations), 2);  // iterations run 1..n
  }

  double x(double iteration) const { return left_ + (iteration - 1) / (x_hi_ - 1) * plot_w(); }
  double y(const Axis& a, double v) const { return top_ + (a.hi - v) / (a.hi - a.lo) * plot_h(); }

  void header(const std::string& title) {
    s_.precision(6);
    s_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width_ << "\" height=\"" << height_
       << "\" viewBox=\"0 0 " << width_ << " " << height_ << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
       << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
       << "<text x=\"" << width_ / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" << escape_xml(title)
       << "</text>\n";
  }

  // Grid lines across the plot for the left axis, ticks below it for the iterations.
  void grid(const Axis& ly) {
    for (double v = ly.lo; v <= ly.hi + ly.step * 1e-6; v += ly.step) {
      const double yv = y(ly, v);
      s_ << "<line x1=\"" << left_ << "\" y1=\"" << yv << "\" x2=\"" << left_ + plot_w() << "\" y2=\"" << yv
         << "\" stroke=\"#e0e0e0\"/>\n"
         << "<text x=\"" << left_ - 6 << "\" y=\"" << yv + 4 << "\" text-anchor=\"end\">" << number(v, ly.step)
         << "</text>\n";
    }
    const double x_step = std::max(1.0, nice_step(1, x_hi_, 8)), bottom = top_ + plot_h();
    for (double it = 1; it <= x_hi_ + 1e-9; it += x_step) {
      s_ << "<line x1=\"" << x(it) << "\" y1=\"" << bottom << "\" x2=\"" << x(it) << "\" y2=\"" << bottom + 5
         << "\" stroke=\"black\"/>\n"
         << "<text x=\"" << x(it) << "\" y=\"" << bottom + 18 << "\" text-anchor=\"middle\">" << it << "</text>\n";
    }
  }

  void axes() {
    s_ << "<rect x=\"" << left_ << "\" y=\"" << top_ << "\" width=\"" << plot_w() << "\" height=\"" << plot_h()
       << "\" fill=\"none\" stroke=\"black\"/>\n"
       << "<text x=\"" << left_ + plot_w() / 2 << "\" y=\"" << height_ - 18
       << "\" text-anchor=\"middle\">iteration (epoch)</text>\n"
       << "<text transform=\"translate(20 " << top_ + plot_h() / 2
       << ") rotate(-90)\" text-anchor=\"middle\" fill=\"#1f77b4\">loss</text>\n";
  }

  // The validation scores' axis, on the right.
  void right_axis(const Axis& vy) {
    for (double v = vy.lo; v <= vy.hi + vy.step * 1e-6; v += vy.step) {
      const double yv = y(vy, v), edge = left_ + plot_w();
      s_ << "<line x1=\"" << edge << "\" y1=\"" << yv << "\" x2=\"" << edge + 5 << "\" y2=\"" << yv
         << "\" stroke=\"black\"/>\n"
         << "<text x=\"" << edge + 8 << "\" y=\"" << yv + 4 << "\">" << number(v, vy.step) << "</text>\n";
    }
    s_ << "<text transform=\"translate(" << width_ - 16 << " " << top_ + plot_h() / 2
       << ") rotate(90)\" text-anchor=\"middle\" fill=\"#d62728\">validation score</text>\n";
  }

  // One series: a line through its points and a dot at each.
  void series(const std::vector<double>& values, const Axis& a, const char* color, bool dashed) {
    s_ << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\""
       << (dashed ? " stroke-dasharray=\"6 4\"" : "") << " points=\"";
    for (std::size_t i = 0; i < values.size(); ++i) s_ << (i ? " " : "") << x(double(i + 1)) << "," << y(a, values[i]);
    s_ << "\"/>\n";
    for (std::size_t i = 0; i < values.size(); ++i) {
      s_ << "<circle cx=\"" << x(double(i + 1)) << "\" cy=\"" << y(a, values[i]) << "\" r=\"2.5\" fill=\"" << color
         << "\"/>\n";
    }
  }

  struct Entry {
    const char* color;
    bool dashed;
    const char* label;
  };
  // The legend, top right inside the plot: a line a series.
  void legend(const std::vector<Entry>& entries) {
    const double lx = left_ + plot_w() - 170, lh = 4 + 20 * double(entries.size());
    s_ << "<rect x=\"" << lx << "\" y=\"" << top_ + 8 << "\" width=\"160\" height=\"" << lh
       << "\" fill=\"white\" stroke=\"#999999\"/>\n";
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const double yv = top_ + 20 + 20 * double(i);
      s_ << "<line x1=\"" << lx + 8 << "\" y1=\"" << yv << "\" x2=\"" << lx + 32 << "\" y2=\"" << yv << "\" stroke=\""
         << entries[i].color << "\" stroke-width=\"2\"" << (entries[i].dashed ? " stroke-dasharray=\"6 4\"" : "")
         << "/>\n"
         << "<text x=\"" << lx + 38 << "\" y=\"" << yv + 4 << "\">" << entries[i].label << "</text>\n";
    }
  }

  std::string finish() {
    s_ << "</svg>\n";
    return s_.str();
  }

 private:
  double plot_w() const { return width_ - left_ - right_; }
  double plot_h() const { return height_ - top_ - bottom_; }

  double width_ = 640, height_ = 400, left_ = 80, right_, top_ = 50, bottom_ = 60;
  double x_hi_;
  std::ostringstream s_;
};

}  // namespace

std::string loss_curve_svg(const std::vector<double>& loss, const std::vector<double>& validation_scores,
                           const std::string& title, const std::vector<double>& validation_loss) {
  if (loss.empty()) throw Error("loss_curve_svg: the loss curve is empty (fit the model first)");
  check_finite(loss, "the loss");
  check_finite(validation_scores, "the validation score");
  check_finite(validation_loss, "the validation loss");
  const bool validation = !validation_scores.empty();
  CurvePlot plot(std::max({loss.size(), validation_scores.size(), validation_loss.size()}), validation);
  // The losses share the left axis.
  std::vector<double> losses = loss;
  losses.insert(losses.end(), validation_loss.begin(), validation_loss.end());
  const Axis ly = nice_axis(losses);

  plot.header(title);
  plot.grid(ly);
  plot.axes();
  plot.series(loss, ly, "#1f77b4", false);
  std::vector<CurvePlot::Entry> entries{{"#1f77b4", false, "training loss"}};
  if (!validation_loss.empty()) {
    plot.series(validation_loss, ly, "#1f77b4", true);
    entries.push_back({"#1f77b4", true, "validation loss"});
  }
  if (validation) {
    const Axis vy = nice_axis(validation_scores);
    plot.right_axis(vy);
    plot.series(validation_scores, vy, "#d62728", false);
    entries.push_back({"#d62728", false, "validation score"});
  }
  plot.legend(entries);
  return plot.finish();
}

}  // namespace dagrad
