#pragma once
// Rendering a parsed chat template: statements run top to bottom, expressions
// evaluate to Values, output accumulates into one string. Every statement,
// loop iteration and call counts against RenderLimits::max_steps, and output,
// string and list sizes and macro call depth are bounded, so a hostile
// template ends with a TemplateError rather than a hang or a crash.

#include <string>

#include "tokenizer/jinja_ast.h"

namespace sieve::tokenizer::jinja {

// `variables` are visible to the template beside the builtin functions.
// Throws TemplateError: Runtime (with the template line), Raised
// (raise_exception), Limit.
std::string render_template(const StmtList& program, const ValueMap& variables, const RenderLimits& limits);

}  // namespace sieve::tokenizer::jinja
