// Draws a DOT file with dagrad's render (Graphviz's libraries in this
// process, no `dot` program), for the drawings the tests check:
//   render_file IN.dot OUT.svg
#include <dagrad/viz/render.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: render_file IN.dot OUT.svg (or .png, .pdf)\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "render_file: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    dagrad::render(text.str(), argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "render_file: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
