//! The expression language of `show_if` and `eligible_if` (SPEC §9):
//!
//! ```text
//! expr     := or
//! or       := and ("or" and)*
//! and      := unary ("and" unary)*
//! unary    := "not" unary | primary
//! primary  := "(" expr ")" | "answered" "(" KEY ")" | KEY OP literal
//! OP       := "==" | "!=" | "<" | "<=" | ">" | ">=" | "has"
//! literal  := 'text' | number | true | false
//! ```
//!
//! Parsing knows nothing of forms; `check` then types an expression against the
//! questions it may refer to, and `eval` decides it against typed answers. An
//! unanswered question makes every comparison false (`answered(KEY)` asks directly).

use std::fmt;

use chrono::NaiveDate;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Has,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Has => "has",
        }
    }
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Text(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Compare { key: String, op: Op, value: Literal },
    Answered(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl fmt::Display for Expr {
    /// Prints the expression back in the language, fully parenthesised where needed,
    /// so that `parse(e.to_string()) == e`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Compare { key, op, value } => write!(f, "{key} {} {value}", op.as_str()),
            Expr::Answered(key) => write!(f, "answered({key})"),
            Expr::Not(e) => write!(f, "not ({e})"),
            Expr::And(a, b) => write!(f, "({a}) and ({b})"),
            Expr::Or(a, b) => write!(f, "({a}) or ({b})"),
        }
    }
}

/// Why an expression could not be read: the 1-based column and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct ExprError {
    pub column: usize,
    pub message: String,
}

fn error<T>(column: usize, message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError { column, message: message.into() })
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Text(String),
    Number(f64),
    Op(Op),
    Open,
    Close,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("`{s}`"),
            Token::Text(s) => format!("the text '{s}'"),
            Token::Number(n) => format!("the number {n}"),
            Token::Op(op) => format!("`{}`", op.as_str()),
            Token::Open => "`(`".into(),
            Token::Close => "`)`".into(),
        }
    }
}

/// Splits `source` into tokens with their 1-based columns.
fn lex(source: &str) -> Result<Vec<(usize, Token)>, ExprError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push((column, Token::Open));
                i += 1;
            }
            ')' => {
                tokens.push((column, Token::Close));
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('=', Some('=')) => (Op::Eq, 2),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('<', _) => (Op::Lt, 1),
                    ('>', _) => (Op::Gt, 1),
                    ('=', _) => return error(column, "`=` is not an operator; write `==`"),
                    _ => return error(column, "`!` is not an operator; write `!=` or `not`"),
                };
                tokens.push((column, Token::Op(op)));
                i += len;
            }
            '\'' | '"' => {
                let quote = c;
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return error(column, "this text is not closed"),
                        Some('\\') => match chars.get(i + 1) {
                            Some(&e) if e == quote || e == '\\' => {
                                text.push(e);
                                i += 2;
                            }
                            _ => return error(i + 1, "only \\' and \\\\ may follow a backslash"),
                        },
                        Some(&ch) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                tokens.push((column, Token::Text(text)));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|d| d.is_ascii_digit() || *d == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                match text.parse::<f64>() {
                    Ok(n) if n.is_finite() => tokens.push((column, Token::Number(n))),
                    _ => return error(column, format!("`{text}` is not a number")),
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars.get(i).is_some_and(|d| d.is_ascii_alphanumeric() || *d == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let token = if word == "has" { Token::Op(Op::Has) } else { Token::Ident(word) };
                tokens.push((column, token));
            }
            other => return error(column, format!("unexpected `{other}`")),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.at).map(|(c, _)| *c).unwrap_or(self.end)
    }

    fn next(&mut self) -> Option<(usize, Token)> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w == word)
    }

    fn or(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let mut left = self.and(depth)?;
        while self.is_word("or") {
            self.at += 1;
            let right = self.and(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let mut left = self.unary(depth)?;
        while self.is_word("and") {
            self.at += 1;
            let right = self.unary(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, ExprError> {
        if depth > MAX_DEPTH {
            return error(self.column(), "the expression is nested too deeply");
        }
        if self.is_word("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let column = self.column();
        match self.next() {
            None => error(column, "an expression was expected here"),
            Some((_, Token::Open)) => {
                let inner = self.or(depth + 1)?;
                self.expect_close("to close the `(`")?;
                Ok(inner)
            }
            Some((_, Token::Ident(word))) if word == "answered" => {
                let column = self.column();
                if self.next().map(|(_, t)| t) != Some(Token::Open) {
                    return error(column, "write `answered(question_key)`");
                }
                let key = self.key()?;
                self.expect_close("after the question key")?;
                Ok(Expr::Answered(key))
            }
            Some((_, Token::Ident(word)))
                if matches!(word.as_str(), "and" | "or" | "not" | "true" | "false") =>
            {
                error(column, format!("a question key was expected, not `{word}`"))
            }
            Some((_, Token::Ident(key))) => {
                check_key(&key, column)?;
                let op_column = self.column();
                let op = match self.next() {
                    Some((_, Token::Op(op))) => op,
                    Some((_, other)) => {
                        return error(
                            op_column,
                            format!(
                                "an operator (==, !=, <, <=, >, >=, has) was expected after `{key}`, not {}",
                                other.describe()
                            ),
                        );
                    }
                    None => {
                        return error(
                            op_column,
                            format!(
                                "an operator (==, !=, <, <=, >, >=, has) was expected after `{key}`"
                            ),
                        );
                    }
                };
                let value_column = self.column();
                let value = match self.next() {
                    Some((_, Token::Text(s))) => Literal::Text(s),
                    Some((_, Token::Number(n))) => Literal::Number(n),
                    Some((_, Token::Ident(w))) if w == "true" => Literal::Bool(true),
                    Some((_, Token::Ident(w))) if w == "false" => Literal::Bool(false),
                    Some((_, Token::Ident(w))) => {
                        return error(
                            value_column,
                            format!("a value was expected; write text in quotes: '{w}'"),
                        );
                    }
                    Some((_, other)) => {
                        return error(
                            value_column,
                            format!("a value was expected, not {}", other.describe()),
                        );
                    }
                    None => {
                        return error(
                            value_column,
                            format!("a value was expected after `{}`", op.as_str()),
                        );
                    }
                };
                Ok(Expr::Compare { key, op, value })
            }
            Some((_, other)) => error(
                column,
                format!("a question key, `not` or `(` was expected, not {}", other.describe()),
            ),
        }
    }

    fn key(&mut self) -> Result<String, ExprError> {
        let column = self.column();
        match self.next() {
            Some((_, Token::Ident(key))) => {
                check_key(&key, column)?;
                Ok(key)
            }
            _ => error(column, "a question key was expected"),
        }
    }

    fn expect_close(&mut self, why: &str) -> Result<(), ExprError> {
        let column = self.column();
        match self.next() {
            Some((_, Token::Close)) => Ok(()),
            _ => error(column, format!("`)` was expected {why}")),
        }
    }
}

fn check_key(key: &str, column: usize) -> Result<(), ExprError> {
    if key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        Ok(())
    } else {
        error(column, format!("`{key}` is not a question key (lower case, digits and _)"))
    }
}

/// Parses an expression. The whole text must be one expression.
pub fn parse(source: &str) -> Result<Expr, ExprError> {
    let tokens = lex(source)?;
    let end = source.chars().count() + 1;
    let mut parser = Parser { tokens, at: 0, end };
    let expr = parser.or(0)?;
    if let Some((column, token)) = parser.tokens.get(parser.at) {
        let hint = match token {
            Token::Ident(_) | Token::Open => "; join conditions with `and` or `or`",
            _ => "",
        };
        return error(
            *column,
            format!("unexpected {} after a complete condition{hint}", token.describe()),
        );
    }
    Ok(expr)
}

/// What a question's answers look like, as far as expressions are concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Text-like answers (text, long_text, email); any text may be compared.
    Text,
    /// A date, compared as `YYYY-MM-DD` text with every operator but `has`.
    Date,
    /// A single choice from these values.
    Choice(Vec<String>),
    /// Several choices from these values.
    Choices(Vec<String>),
    Number,
    Bool,
}

/// Why an expression cannot be used with a form: it does not read, or it names
/// something the form does not ask, or compares a question with the wrong kind of
/// value. The message says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error(transparent)]
    Syntax(#[from] ExprError),
    #[error("{0}")]
    Meaning(String),
}

/// Checks that every key exists (as `lookup` says) and each comparison suits its
/// question's type; the message names the key.
pub fn check(
    expr: &Expr,
    lookup: &dyn Fn(&str) -> Result<Operand, Unusable>,
) -> Result<(), Unusable> {
    match expr {
        Expr::Answered(key) => lookup(key).map(|_| ()),
        Expr::Not(e) => check(e, lookup),
        Expr::And(a, b) | Expr::Or(a, b) => {
            check(a, lookup)?;
            check(b, lookup)
        }
        Expr::Compare { key, op, value } => {
            let operand = lookup(key)?;
            let listed = |values: &[String], v: &str| {
                if values.iter().any(|c| c == v) {
                    Ok(())
                } else {
                    Err(Unusable::Meaning(format!(
                        "'{v}' is not one of the choices of `{key}` ({})",
                        values.join(", ")
                    )))
                }
            };
            match (&operand, op, value) {
                (Operand::Choices(values), Op::Has, Literal::Text(v)) => listed(values, v),
                (Operand::Choices(_), _, _) => Err(Unusable::Meaning(format!(
                    "`{key}` is a multiple choice: write `{key} has 'value'`"
                ))),
                (_, Op::Has, _) => Err(Unusable::Meaning(format!(
                    "`has` applies to multiple-choice questions; `{key}` is not one"
                ))),
                (Operand::Choice(values), Op::Eq | Op::Ne, Literal::Text(v)) => listed(values, v),
                (Operand::Choice(_), _, _) => Err(Unusable::Meaning(format!(
                    "`{key}` is a single choice: compare it with == or != and a quoted value"
                ))),
                (Operand::Text, Op::Eq | Op::Ne, Literal::Text(_)) => Ok(()),
                (Operand::Text, _, _) => Err(Unusable::Meaning(format!(
                    "`{key}` is text: compare it with == or != and a quoted value"
                ))),
                (Operand::Date, _, Literal::Text(v)) => {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d").map(|_| ()).map_err(|_| {
                        Unusable::Meaning(format!("'{v}' is not a date (YYYY-MM-DD) for `{key}`"))
                    })
                }
                (Operand::Date, _, _) => Err(Unusable::Meaning(format!(
                    "`{key}` is a date: compare it with a quoted 'YYYY-MM-DD'"
                ))),
                (Operand::Number, _, Literal::Number(_)) => Ok(()),
                (Operand::Number, _, _) => {
                    Err(Unusable::Meaning(format!("`{key}` is a number: compare it with a number")))
                }
                (Operand::Bool, Op::Eq | Op::Ne, Literal::Bool(_)) => Ok(()),
                (Operand::Bool, _, _) => Err(Unusable::Meaning(format!(
                    "`{key}` is yes/no: write `{key} == true` or `{key} == false`"
                ))),
            }
        }
    }
}

/// A typed answer, as expressions see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Text(&'a str),
    Number(f64),
    Bool(bool),
    Choices(&'a [String]),
}

/// Evaluates `expr` with `answer` giving the typed answer to a key, or `None` when
/// it was not answered (or not asked).
pub fn eval<'a>(expr: &Expr, answer: &dyn Fn(&str) -> Option<Value<'a>>) -> bool {
    match expr {
        Expr::Answered(key) => answer(key).is_some(),
        Expr::Not(e) => !eval(e, answer),
        Expr::And(a, b) => eval(a, answer) && eval(b, answer),
        Expr::Or(a, b) => eval(a, answer) || eval(b, answer),
        Expr::Compare { key, op, value } => {
            let Some(actual) = answer(key) else { return false };
            match (actual, value) {
                (Value::Choices(chosen), Literal::Text(v)) => match op {
                    Op::Has => chosen.iter().any(|c| c == v),
                    _ => false,
                },
                (Value::Text(a), Literal::Text(v)) => compare(a.cmp(v.as_str()), *op),
                (Value::Number(a), Literal::Number(v)) => {
                    a.partial_cmp(v).is_some_and(|o| compare(o, *op))
                }
                (Value::Bool(a), Literal::Bool(v)) => compare(a.cmp(v), *op),
                _ => false,
            }
        }
    }
}

fn compare(ordering: std::cmp::Ordering, op: Op) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => ordering == Equal,
        Op::Ne => ordering != Equal,
        Op::Lt => ordering == Less,
        Op::Le => ordering != Greater,
        Op::Gt => ordering == Greater,
        Op::Ge => ordering != Less,
        Op::Has => false,
    }
}

/// The question keys an expression refers to, in order of appearance.
pub fn keys(expr: &Expr) -> Vec<&str> {
    match expr {
        Expr::Answered(key) | Expr::Compare { key, .. } => vec![key.as_str()],
        Expr::Not(e) => keys(e),
        Expr::And(a, b) | Expr::Or(a, b) => {
            let mut all = keys(a);
            all.extend(keys(b));
            all
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn answers<'a>(key: &str) -> Option<Value<'a>> {
        static PLATFORMS: std::sync::LazyLock<Vec<String>> =
            std::sync::LazyLock::new(|| vec!["facebook".to_string(), "twitter".to_string()]);
        match key {
            "platforms_used" => Some(Value::Choices(&PLATFORMS)),
            "gender" => Some(Value::Text("female")),
            "age" => Some(Value::Number(22.0)),
            "enrolled_in_medicine" => Some(Value::Bool(true)),
            _ => None,
        }
    }

    fn holds(source: &str) -> bool {
        let expr = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        eval(&expr, &answers)
    }

    #[test]
    fn the_spec_forms_evaluate() {
        assert!(holds("platforms_used has 'twitter'"));
        assert!(!holds("platforms_used has 'tiktok'"));
        assert!(holds("gender == 'female'"));
        assert!(holds("gender != 'male'"));
        assert!(holds("enrolled_in_medicine == true"));
        assert!(holds("age < 30 and age >= 22"));
        assert!(!holds("age > 22"));
        assert!(holds("age <= 22.0"));
        assert!(holds("answered(age) and not answered(year_of_course)"));
        assert!(holds("(gender == 'male' or age == 22) and platforms_used has 'facebook'"));
        assert!(holds("gender == \"female\""));
    }

    #[test]
    fn an_unanswered_question_makes_every_comparison_false() {
        assert!(!holds("year_of_course == 1"));
        assert!(!holds("year_of_course != 1"));
        assert!(holds("not (year_of_course != 1)"));
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let e = parse("a == 1 or b == 2 and not c == 3").unwrap_or_else(|e| panic!("{e}"));
        let c = |k: &str, n: f64| Expr::Compare {
            key: k.into(),
            op: Op::Eq,
            value: Literal::Number(n),
        };
        assert_eq!(
            e,
            Expr::Or(
                Box::new(c("a", 1.0)),
                Box::new(Expr::And(
                    Box::new(c("b", 2.0)),
                    Box::new(Expr::Not(Box::new(c("c", 3.0))))
                ))
            )
        );
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases = [
            ("", 1, "an expression was expected"),
            ("age = 3", 5, "write `==`"),
            ("age == ", 8, "a value was expected after `==`"),
            ("gender == female", 11, "write text in quotes: 'female'"),
            ("gender == 'female", 11, "not closed"),
            ("(age > 3", 9, "`)` was expected"),
            ("age > 3 gender == 'x'", 9, "join conditions with `and` or `or`"),
            ("Age > 3", 1, "not a question key"),
            ("age 3", 5, "an operator"),
            ("answered age", 10, "answered(question_key)"),
            ("age > 3 and", 12, "an expression was expected"),
            ("age # 3", 5, "unexpected `#`"),
            ("and == 1", 1, "not `and`"),
        ];
        for (source, column, fragment) in cases {
            let e = parse(source).err().unwrap_or_else(|| panic!("{source:?} parsed"));
            assert_eq!(e.column, column, "{source:?}: {e}");
            assert!(e.message.contains(fragment), "{source:?}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let source = format!("{}a == 1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&source).is_err());
        let nots = format!("{}a == 1", "not ".repeat(10_000));
        assert!(parse(&nots).is_err());
    }

    #[test]
    fn check_types_comparisons_against_questions() {
        let lookup = |key: &str| -> Result<Operand, Unusable> {
            match key {
                "platforms_used" => Ok(Operand::Choices(vec!["twitter".into()])),
                "gender" => Ok(Operand::Choice(vec!["female".into(), "male".into()])),
                "age" => Ok(Operand::Number),
                "ok" => Ok(Operand::Bool),
                "born" => Ok(Operand::Date),
                "notes" => Ok(Operand::Text),
                other => Err(Unusable::Meaning(format!("`{other}` is not an earlier question"))),
            }
        };
        let verdict = |s: &str| check(&parse(s).unwrap_or_else(|e| panic!("{e}")), &lookup);
        for fine in [
            "platforms_used has 'twitter'",
            "gender == 'male'",
            "age >= 18",
            "ok == false",
            "born < '2000-01-01'",
            "notes != ''",
            "answered(notes)",
        ] {
            assert_eq!(verdict(fine), Ok(()), "{fine}");
        }
        for (bad, fragment) in [
            ("platforms_used == 'twitter'", "has 'value'"),
            ("platforms_used has 'tiktok'", "not one of the choices"),
            ("gender == 'other'", "not one of the choices"),
            ("gender has 'male'", "multiple-choice"),
            ("age == 'x'", "compare it with a number"),
            ("ok == 1", "yes/no"),
            ("born < 'soon'", "not a date"),
            ("later == 1", "not an earlier question"),
            ("answered(later)", "not an earlier question"),
            ("notes < 'b'", "is text"),
        ] {
            let e = verdict(bad).err().unwrap_or_else(|| panic!("{bad} passed"));
            assert!(e.to_string().contains(fragment), "{bad}: {e}");
        }
    }

    fn arb_literal() -> impl Strategy<Value = Literal> {
        prop_oneof![
            "[a-z _']{0,8}".prop_map(Literal::Text),
            (-1000i32..1000).prop_map(|n| Literal::Number(f64::from(n) / 4.0)),
            any::<bool>().prop_map(Literal::Bool),
        ]
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Eq),
            Just(Op::Ne),
            Just(Op::Lt),
            Just(Op::Le),
            Just(Op::Gt),
            Just(Op::Ge),
            Just(Op::Has)
        ]
    }

    fn arb_key() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9_]{0,6}".prop_filter("not a keyword", |k| {
            !matches!(k.as_str(), "and" | "or" | "not" | "has" | "true" | "false" | "answered")
        })
    }

    fn arb_expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            (arb_key(), arb_op(), arb_literal()).prop_map(|(key, op, value)| Expr::Compare {
                key,
                op,
                value
            }),
            arb_key().prop_map(Expr::Answered),
        ];
        leaf.prop_recursive(5, 32, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            ]
        })
    }

    proptest! {
        #[test]
        fn printing_then_parsing_gives_the_same_expression(e in arb_expr()) {
            let printed = e.to_string();
            prop_assert_eq!(parse(&printed), Ok(e), "{}", printed);
        }

        #[test]
        fn any_text_parses_or_fails_cleanly(s in "\\PC{0,40}") {
            if let Err(e) = parse(&s) {
                prop_assert!(e.column >= 1 && e.column <= s.chars().count() + 1, "{:?}: {}", s, e);
            }
        }

        #[test]
        fn not_negates_and_de_morgan_holds(a in arb_expr(), b in arb_expr(), age in -10i32..40) {
            let answer = |key: &str| -> Option<Value<'static>> {
                match key.len() % 3 {
                    0 => Some(Value::Number(f64::from(age))),
                    1 => Some(Value::Bool(age % 2 == 0)),
                    _ => None,
                }
            };
            let not_a = Expr::Not(Box::new(a.clone()));
            prop_assert_eq!(eval(&not_a, &answer), !eval(&a, &answer));
            let lhs = Expr::Not(Box::new(Expr::And(Box::new(a.clone()), Box::new(b.clone()))));
            let rhs = Expr::Or(Box::new(Expr::Not(Box::new(a))), Box::new(Expr::Not(Box::new(b))));
            prop_assert_eq!(eval(&lhs, &answer), eval(&rhs, &answer));
        }
    }
}
