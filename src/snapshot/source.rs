//! Where a variable is declared, read from a script's JavaScript source: a
//! heap snapshot names a closure's variables (`inFlight` in a module's
//! context) and holds the script's source, but not the variables'
//! positions. A small scanner (comments, strings, templates and regexps
//! skipped; braces counted) finds the declarations of a name — `const`,
//! `let`, `var`, `function`, `class`, `import` bindings, parameters,
//! `catch` bindings — and picks the one whose scope holds a given position.
//! It is not a parser: on code it does not follow it finds nothing, or a
//! declaration of the same name in another scope, never a wrong name.

/// A declaration: 0-based line and column (in characters) of the name, and
/// the tokens its scope spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declaration {
  pub line: u32,
  pub column: u32,
  /// Token index of the name.
  index: usize,
  /// Token index where its scope ends (`usize::MAX`: the end of the script).
  scope_end: usize,
  /// Declared at the top level of the script (a module's variable).
  top_level: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'s> {
  Ident(&'s str),
  Punct(char),
  /// `=>`
  Arrow,
  /// `...`
  Spread,
  /// A string, template, number or regexp: a value, never a name.
  Literal,
}

#[derive(Debug, Clone, Copy)]
struct Token<'s> {
  tok: Tok<'s>,
  line: u32,
  column: u32,
}

/// Keywords after which a `/` starts a regexp, not a division.
const BEFORE_EXPRESSION: &[&str] = &[
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
];

/// Words before `(` that make it a condition or a call, not parameters.
const NOT_PARAMS: &[&str] = &["if", "for", "while", "switch", "with", "return", "typeof"];

struct Lexer<'s> {
  src: &'s str,
  bytes: &'s [u8],
  pos: usize,
  line: u32,
  column: u32,
  /// Brace depth at which each open template's `${` started.
  templates: Vec<u32>,
  braces: u32,
}

impl<'s> Lexer<'s> {
  fn new(src: &'s str) -> Self {
    let mut l = Lexer {
      src,
      bytes: src.as_bytes(),
      pos: 0,
      line: 0,
      column: 0,
      templates: Vec::new(),
      braces: 0,
    };
    // A hashbang line is a comment.
    if src.starts_with("#!") {
      l.skip_line();
    }
    l
  }

  fn peek(&self, k: usize) -> u8 {
    self.bytes.get(self.pos + k).copied().unwrap_or(0)
  }

  /// Advances one character (UTF-8 aware: columns count characters).
  fn bump(&mut self) {
    let b = self.bytes[self.pos];
    let width = match b {
      0x00..=0x7f => 1,
      0xc0..=0xdf => 2,
      0xe0..=0xef => 3,
      _ => 4,
    };
    self.pos = (self.pos + width).min(self.bytes.len());
    if b == b'\n' {
      self.line += 1;
      self.column = 0;
    } else {
      self.column += 1;
    }
  }

  fn skip_line(&mut self) {
    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
      self.bump();
    }
  }

  fn skip_quoted(&mut self, quote: u8) {
    self.bump();
    while self.pos < self.bytes.len() {
      let b = self.bytes[self.pos];
      if b == b'\\' {
        self.bump();
        if self.pos < self.bytes.len() {
          self.bump();
        }
        continue;
      }
      self.bump();
      if b == quote || (b == b'\n' && quote != b'`') {
        return;
      }
    }
  }

  /// Inside a template literal, up to its end or to a `${` (which opens code).
  fn skip_template(&mut self) {
    while self.pos < self.bytes.len() {
      let b = self.bytes[self.pos];
      if b == b'\\' {
        self.bump();
        if self.pos < self.bytes.len() {
          self.bump();
        }
        continue;
      }
      if b == b'`' {
        self.bump();
        return;
      }
      if b == b'$' && self.peek(1) == b'{' {
        self.bump();
        self.bump();
        self.templates.push(self.braces);
        self.braces += 1;
        return;
      }
      self.bump();
    }
  }

  fn skip_regexp(&mut self) {
    self.bump();
    let mut class = false;
    while self.pos < self.bytes.len() {
      let b = self.bytes[self.pos];
      match b {
        b'\\' => {
          self.bump();
          if self.pos < self.bytes.len() {
            self.bump();
          }
          continue;
        }
        b'[' => class = true,
        b']' => class = false,
        b'/' if !class => {
          self.bump();
          while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_alphabetic() {
            self.bump();
          }
          return;
        }
        b'\n' => return,
        _ => {}
      }
      self.bump();
    }
  }

  /// The next token; `regexp_ok` says whether a `/` here starts a regexp.
  fn next(&mut self, regexp_ok: bool) -> Option<Token<'s>> {
    loop {
      if self.pos >= self.bytes.len() {
        return None;
      }
      let b = self.bytes[self.pos];
      match b {
        b' ' | b'\t' | b'\r' | b'\n' => self.bump(),
        b'/' if self.peek(1) == b'/' => self.skip_line(),
        b'/' if self.peek(1) == b'*' => {
          self.bump();
          self.bump();
          while self.pos < self.bytes.len()
            && !(self.bytes[self.pos] == b'*' && self.peek(1) == b'/')
          {
            self.bump();
          }
          if self.pos < self.bytes.len() {
            self.bump();
            self.bump();
          }
        }
        _ => break,
      }
    }
    let (line, column, at) = (self.line, self.column, self.pos);
    let b = self.bytes[self.pos];
    let tok = match b {
      b'"' | b'\'' => {
        self.skip_quoted(b);
        Tok::Literal
      }
      b'`' => {
        self.bump();
        self.skip_template();
        Tok::Literal
      }
      b'/' if regexp_ok => {
        self.skip_regexp();
        Tok::Literal
      }
      b'0'..=b'9' => {
        while self.pos < self.bytes.len()
          && (self.bytes[self.pos].is_ascii_alphanumeric()
            || matches!(self.bytes[self.pos], b'.' | b'_'))
        {
          self.bump();
        }
        Tok::Literal
      }
      b'=' if self.peek(1) == b'>' => {
        self.bump();
        self.bump();
        Tok::Arrow
      }
      b'.' if self.peek(1) == b'.' && self.peek(2) == b'.' => {
        self.bump();
        self.bump();
        self.bump();
        Tok::Spread
      }
      b'{' => {
        self.bump();
        self.braces += 1;
        Tok::Punct('{')
      }
      b'}' => {
        self.bump();
        self.braces = self.braces.saturating_sub(1);
        if self.templates.last() == Some(&self.braces) {
          // The `}` closes a template's `${`: the template goes on.
          self.templates.pop();
          self.skip_template();
          return Some(Token {
            tok: Tok::Literal,
            line,
            column,
          });
        }
        Tok::Punct('}')
      }
      _ if b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b >= 0x80 => {
        while self.pos < self.bytes.len() {
          let c = self.bytes[self.pos];
          if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
            self.bump();
          } else {
            break;
          }
        }
        Tok::Ident(&self.src[at..self.pos])
      }
      _ => {
        self.bump();
        Tok::Punct(b as char)
      }
    };
    Some(Token { tok, line, column })
  }
}

/// Every token of `src` with the brace depth before it.
fn tokens(src: &str) -> Vec<(Token<'_>, u32)> {
  let mut lx = Lexer::new(src);
  let mut out: Vec<(Token<'_>, u32)> = Vec::new();
  loop {
    let regexp_ok = match out.last().map(|(t, _)| t.tok) {
      None => true,
      Some(Tok::Ident(w)) => BEFORE_EXPRESSION.contains(&w),
      Some(Tok::Literal) => false,
      Some(Tok::Punct(c)) => !matches!(c, ')' | ']' | '}'),
      Some(Tok::Arrow | Tok::Spread) => true,
    };
    let depth = lx.braces;
    match lx.next(regexp_ok) {
      Some(t) => out.push((t, depth)),
      None => return out,
    }
  }
}

/// The index of the token closing the bracket opened at `open`.
fn matching(toks: &[(Token<'_>, u32)], open: usize) -> Option<usize> {
  let (o, c) = match toks[open].0.tok {
    Tok::Punct('(') => ('(', ')'),
    Tok::Punct('[') => ('[', ']'),
    Tok::Punct('{') => ('{', '}'),
    _ => return None,
  };
  let mut level = 0i32;
  for (i, (t, _)) in toks.iter().enumerate().skip(open) {
    match t.tok {
      Tok::Punct(x) if x == o => level += 1,
      Tok::Punct(x) if x == c => {
        level -= 1;
        if level == 0 {
          return Some(i);
        }
      }
      _ => {}
    }
  }
  None
}

/// The binding names of a pattern or parameter list between `from` and `to`
/// (exclusive): identifiers not used as a key (`a` in `{ a: b }`) and not in
/// a default value (`= expr`, up to the next `,` at the same level).
fn bindings_in(
  toks: &[(Token<'_>, u32)],
  from: usize,
  to: usize,
  name: &str,
  scope: Scope,
  out: &mut Vec<Declaration>,
) {
  let mut i = from;
  let mut level = 0i32;
  let mut in_default: Option<i32> = None;
  while i < to {
    let (t, _) = toks[i];
    match t.tok {
      Tok::Punct('(' | '[' | '{') => level += 1,
      Tok::Punct(')' | ']' | '}') => {
        level -= 1;
        if in_default.is_some_and(|l| level < l) {
          in_default = None;
        }
      }
      Tok::Punct(',') if in_default == Some(level) => in_default = None,
      Tok::Punct('=') if in_default.is_none() => in_default = Some(level),
      Tok::Ident(w) if in_default.is_none() && w == name => {
        let next = toks.get(i + 1).map(|(t, _)| t.tok);
        if next != Some(Tok::Punct(':')) && next != Some(Tok::Punct('(')) {
          out.push(scope.declare(&t, i));
        }
      }
      _ => {}
    }
    i += 1;
  }
}

/// Where a declaration's scope ends, and whether it is the script's top level.
#[derive(Clone, Copy)]
struct Scope {
  end: usize,
  top_level: bool,
}

impl Scope {
  fn declare(self, t: &Token<'_>, index: usize) -> Declaration {
    Declaration {
      line: t.line,
      column: t.column,
      index,
      scope_end: self.end,
      top_level: self.top_level,
    }
  }
}

/// The scope of a declaration at token `i` in the block at brace depth
/// `depth`: up to the `}` that closes that block.
fn block_scope(toks: &[(Token<'_>, u32)], i: usize, depth: u32) -> Scope {
  if depth == 0 {
    return Scope {
      end: usize::MAX,
      top_level: true,
    };
  }
  let end = toks
    .iter()
    .enumerate()
    .skip(i)
    .find(|(_, (t, d))| t.tok == Tok::Punct('}') && *d == depth)
    .map_or(usize::MAX, |(k, _)| k);
  Scope {
    end,
    top_level: false,
  }
}

/// The scope of parameters whose list (or single name) ends at token `last`:
/// the function's body, a block after `=>` or `)`, else the enclosing block.
fn params_scope(toks: &[(Token<'_>, u32)], last: usize) -> Scope {
  let mut body = last + 1;
  if toks.get(body).map(|(t, _)| t.tok) == Some(Tok::Arrow) {
    body += 1;
  }
  if toks.get(body).map(|(t, _)| t.tok) == Some(Tok::Punct('{')) {
    if let Some(end) = matching(toks, body) {
      return Scope {
        end,
        top_level: false,
      };
    }
  }
  let depth = toks[last].1;
  Scope {
    top_level: false,
    ..block_scope(toks, last, depth.max(1))
  }
}

/// Every declaration of `name` in `src`, in source order.
pub fn declarations(src: &str, name: &str) -> Vec<Declaration> {
  let toks = tokens(src);
  declarations_in(&toks, name)
}

fn declarations_in(toks: &[(Token<'_>, u32)], name: &str) -> Vec<Declaration> {
  let mut out = Vec::new();
  let word = |i: usize| match toks.get(i).map(|(t, _)| t.tok) {
    Some(Tok::Ident(w)) => Some(w),
    _ => None,
  };
  let punct = |i: usize| match toks.get(i).map(|(t, _)| t.tok) {
    Some(Tok::Punct(c)) => Some(c),
    _ => None,
  };
  let mut i = 0;
  while i < toks.len() {
    let (t, depth) = toks[i];
    let prev_is_dot = i > 0 && punct(i - 1) == Some('.');
    match t.tok {
      Tok::Ident("const" | "let" | "var") if !prev_is_dot => {
        // One or more declarators: `a = 1, { b } = o, [c] = xs`.
        let mut j = i + 1;
        loop {
          match toks.get(j).map(|(t, _)| t.tok) {
            Some(Tok::Ident(w)) => {
              if w == name {
                out.push(block_scope(toks, j, depth).declare(&toks[j].0, j));
              }
              j += 1;
            }
            Some(Tok::Punct('{' | '[')) => {
              let Some(end) = matching(toks, j) else { break };
              bindings_in(
                toks,
                j + 1,
                end,
                name,
                block_scope(toks, j, depth),
                &mut out,
              );
              j = end + 1;
            }
            _ => break,
          }
          // Skip the initializer to a `,` at this level (another
          // declarator) or to where the statement ends.
          let mut level = 0i32;
          let mut next_declarator = false;
          while j < toks.len() {
            match toks[j].0.tok {
              Tok::Punct('(' | '[' | '{') => level += 1,
              Tok::Punct(')' | ']' | '}') => {
                if level == 0 {
                  break;
                }
                level -= 1;
              }
              Tok::Punct(',') if level == 0 => {
                next_declarator = true;
                j += 1;
                break;
              }
              Tok::Punct(';') if level == 0 => break,
              Tok::Ident("of" | "in") if level == 0 => break,
              Tok::Ident(_) | Tok::Literal if level == 0 && toks[j].0.line > toks[j - 1].0.line => {
                // A new line that does not continue an expression: ASI.
                let prev = toks[j - 1].0.tok;
                if !matches!(
                  prev,
                  Tok::Punct('=' | '+' | '-' | '*' | '/' | '?' | ':' | '|' | '&' | '.' | ',')
                    | Tok::Arrow
                ) {
                  break;
                }
              }
              _ => {}
            }
            j += 1;
          }
          if !next_declarator {
            break;
          }
        }
        i += 1;
      }
      Tok::Ident("function" | "class") if !prev_is_dot => {
        let mut j = i + 1;
        if punct(j) == Some('*') {
          j += 1;
        }
        if word(j) == Some(name) {
          out.push(block_scope(toks, j, depth).declare(&toks[j].0, j));
        }
        i += 1;
      }
      Tok::Ident("import") if !prev_is_dot && punct(i + 1) != Some('(') => {
        // import a, { b, c as d }, * as e from '...'
        let mut j = i + 1;
        while j < toks.len() && word(j) != Some("from") && !matches!(toks[j].0.tok, Tok::Literal) {
          if word(j) == Some(name) && word(j + 1) != Some("as") {
            out.push(block_scope(toks, j, depth).declare(&toks[j].0, j));
          }
          j += 1;
        }
        i = j.max(i + 1);
      }
      // `name => ...`
      Tok::Ident(w) if w == name && toks.get(i + 1).map(|(t, _)| t.tok) == Some(Tok::Arrow) => {
        out.push(params_scope(toks, i).declare(&t, i));
        i += 1;
      }
      Tok::Punct('(') => {
        if let Some(end) = matching(toks, i) {
          let after = toks.get(end + 1).map(|(t, _)| t.tok);
          let before = if i > 0 { Some(toks[i - 1].0.tok) } else { None };
          let params = match after {
            Some(Tok::Arrow) => true,
            Some(Tok::Punct('{')) => match before {
              Some(Tok::Ident(w)) => !NOT_PARAMS.contains(&w),
              Some(Tok::Punct('*')) => true,
              _ => false,
            },
            _ => false,
          };
          if params {
            bindings_in(toks, i + 1, end, name, params_scope(toks, end), &mut out);
          }
        }
        i += 1;
      }
      _ => i += 1,
    }
  }
  out
}

/// The declaration of `name` that a function at `inner` (0-based line and
/// column, e.g. a closure that captures the variable) sees: the nearest one
/// before it whose scope is still open there. `module_scope` asks for a
/// top-level declaration instead (a module's variable). `None` when none fits.
pub fn declaration_of(
  src: &str,
  name: &str,
  inner: Option<(u32, u32)>,
  module_scope: bool,
) -> Option<Declaration> {
  let toks = tokens(src);
  let decls = declarations_in(&toks, name);
  if module_scope {
    return decls.iter().find(|d| d.top_level).copied();
  }
  let (line, column) = inner?;
  let at = toks.partition_point(|(t, _)| (t.line, t.column) < (line, column));
  // The innermost: declared last among those whose scope spans `at`.
  decls
    .iter()
    .filter(|d| d.index < at && at <= d.scope_end)
    .max_by_key(|d| d.index)
    .copied()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn at(d: Option<Declaration>) -> Option<(u32, u32)> {
    d.map(|d| (d.line + 1, d.column + 1))
  }

  #[test]
  fn finds_const_let_var_function_class_and_imports() {
    let src = "'use strict'\n// const inFlight = 'a comment'\nconst s = \"let inFlight\"\nconst inFlight = new Map()\nfunction handle (job) { inFlight.set(job.id, job) }\nclass Registry {}\nimport x, { a as registry2 } from 'y'\n";
    assert_eq!(
      at(declaration_of(src, "inFlight", None, true)),
      Some((4, 7))
    );
    assert_eq!(at(declaration_of(src, "handle", None, true)), Some((5, 10)));
    assert_eq!(
      at(declaration_of(src, "Registry", None, true)),
      Some((6, 7))
    );
    assert_eq!(
      at(declaration_of(src, "registry2", None, true)),
      Some((7, 18))
    );
    assert_eq!(
      at(declaration_of(src, "a", None, true)),
      None,
      "a key, not a binding"
    );
  }

  #[test]
  fn a_closure_variable_is_the_declaration_whose_scope_holds_the_closure() {
    // Two functions declare `job`; the closure at line 9 sees the second.
    let src = [
      "const { makeJob } = require('../job')",
      "function fixed (i) {",
      "  const job = makeJob(i)",
      "  return () => job.id",
      "}",
      "module.exports = {",
      "  leaky (i) {",
      "    const job = makeJob(i)",
      "    config.on('reload', () => { job.attempts = 0 })",
      "  }",
      "}",
    ]
    .join("\n");
    assert_eq!(
      at(declaration_of(&src, "job", Some((8, 24)), false)),
      Some((8, 11))
    );
    assert_eq!(
      at(declaration_of(&src, "job", Some((3, 9)), false)),
      Some((3, 9))
    );
    assert_eq!(
      at(declaration_of(&src, "makeJob", None, true)),
      Some((1, 9))
    );
  }

  #[test]
  fn parameters_and_catch_bindings() {
    let src = "async function handle (job, { id, data: payload = {} }) {\n  bus.on('x', () => job)\n}\nconst f = (a, b = job) => () => a\nconst g = req => () => req\ntry { x() } catch (err) { keep(() => err) }\nif (job) { run(() => job) }\n";
    assert_eq!(
      at(declaration_of(src, "job", Some((1, 14)), false)),
      Some((1, 24))
    );
    assert_eq!(
      at(declaration_of(src, "payload", Some((1, 14)), false)),
      Some((1, 41))
    );
    assert_eq!(
      at(declaration_of(src, "id", Some((1, 14)), false)),
      Some((1, 31))
    );
    assert_eq!(
      at(declaration_of(src, "data", Some((1, 14)), false)),
      None,
      "a key"
    );
    assert_eq!(
      at(declaration_of(src, "a", Some((3, 26)), false)),
      Some((4, 12))
    );
    assert_eq!(
      at(declaration_of(src, "req", Some((4, 17)), false)),
      Some((5, 11))
    );
    assert_eq!(
      at(declaration_of(src, "err", Some((5, 36)), false)),
      Some((6, 20))
    );
    // `if (job)` is a condition: `job` there is a use, not a parameter.
    assert_eq!(declarations(src, "job").len(), 1);
  }

  #[test]
  fn strings_templates_regexps_and_comments_hide_nothing_else() {
    let src = "const re = /const x = {/g\nconst t = `${a + `${'}'}`} const x`\n/* const x */ let y = 1 / 2 // const x\nconst x = 1\n";
    assert_eq!(at(declaration_of(src, "x", None, true)), Some((4, 7)));
    assert_eq!(at(declaration_of(src, "y", None, true)), Some((3, 19)));
  }

  #[test]
  fn several_declarators_and_destructuring() {
    let src =
      "let a = f(1, 2), b = [3, 4], { c, d: [e] } = o, [g = h] = xs\nlet z\nconst last = 1\n";
    for (name, col) in [("a", 5), ("b", 18), ("c", 32), ("e", 39), ("g", 50)] {
      assert_eq!(
        at(declaration_of(src, name, None, true)),
        Some((1, col)),
        "{name}"
      );
    }
    assert_eq!(at(declaration_of(src, "d", None, true)), None);
    assert_eq!(at(declaration_of(src, "h", None, true)), None);
    assert_eq!(at(declaration_of(src, "last", None, true)), Some((3, 7)));
  }

  #[test]
  fn a_hoisted_module_variable_is_found_after_its_use() {
    let src = "module.exports = function handle (job) { seen.push(job) }\nconst seen = []\n";
    assert_eq!(at(declaration_of(src, "seen", None, true)), Some((2, 7)));
  }

  #[test]
  fn garbage_and_unicode_do_not_panic() {
    for src in [
      "",
      "`",
      "/",
      "((((",
      "}}}}",
      "const",
      "const {",
      "\"abc",
      "/* x",
      "${",
      "`${`${",
      "é = 1; const é = 2",
      "#!/usr/bin/env node\nconst a = 1",
    ] {
      let _ = declaration_of(src, "a", Some((0, 1)), false);
      let _ = declaration_of(src, "é", None, true);
    }
    assert_eq!(
      at(declaration_of(
        "#!/usr/bin/env node\nconst a = 1",
        "a",
        None,
        true
      )),
      Some((2, 7))
    );
    assert_eq!(
      at(declaration_of("const s = 'é', x = 1", "x", None, true)),
      Some((1, 16))
    );
  }

  #[test]
  fn every_cut_of_a_source_is_scanned_without_panicking() {
    // V8 cuts sources anywhere: mid-string, mid-template, mid-character.
    let src = "#!/usr/bin/env node\nconst { a, b: [c = `${d}`] } = require('x') // é\nfunction f (job, { id } = {}) {\n  const re = /[/]\\//g\n  return () => `${job.id + /* } */ 1}` + 'ü' + id\n}\nclass K { m (x) { try {} catch (e) { return e } } }\n";
    for end in (0..=src.len()).filter(|&i| src.is_char_boundary(i)) {
      let cut = &src[..end];
      for name in ["a", "c", "job", "id", "e", "x", "K"] {
        let _ = declaration_of(cut, name, Some((4, 9)), false);
        let _ = declaration_of(cut, name, None, true);
      }
    }
    assert_eq!(at(declaration_of(src, "c", None, true)), Some((2, 16)));
    assert_eq!(
      at(declaration_of(src, "job", Some((4, 9)), false)),
      Some((3, 13))
    );
    assert_eq!(
      at(declaration_of(src, "e", Some((6, 38)), false)),
      Some((7, 33))
    );
  }
}
