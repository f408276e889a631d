//! `x-kubernetes-validations`: CEL rules evaluated with `self` (and `oldSelf` on updates).

use cel_interpreter::{Context, Program, Value as Cel};
use serde_json::Value;

use crate::status::Cause;

/// Evaluates the rules declared at schema node `s` against `v`. A rule that mentions `oldSelf` is a transition
/// rule and only runs when there is an old value. A rule that cannot be compiled or evaluated is reported as
/// invalid, the way the real server refuses such objects.
pub fn rules(s: &Value, v: &Value, old: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let Some(list) = s.get("x-kubernetes-validations").and_then(Value::as_array) else {
        return;
    };
    for r in list {
        let Some(rule) = r.get("rule").and_then(Value::as_str) else {
            continue;
        };
        let transition = rule.contains("oldSelf");
        if transition && old.is_none() {
            continue;
        }
        let field = r
            .get("fieldPath")
            .and_then(Value::as_str)
            .map(|f| format!("{path}{f}"))
            .unwrap_or_else(|| path.to_string());
        let message = r
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("failed rule: {rule}"));
        match evaluate(rule, v, old) {
            Ok(true) => {}
            Ok(false) => causes.push(Cause::new(
                "FieldValueInvalid",
                format!("Invalid value: \"object\": {message}"),
                field,
            )),
            Err(e) => causes.push(Cause::new(
                "FieldValueInvalid",
                format!("Invalid value: \"object\": rule {rule:?} could not be evaluated: {e}"),
                field,
            )),
        }
    }
}

fn evaluate(rule: &str, v: &Value, old: Option<&Value>) -> Result<bool, String> {
    let program = Program::compile(rule).map_err(|e| e.to_string())?;
    let mut ctx = Context::default();
    ctx.add_variable("self", v.clone()).map_err(|e| e.to_string())?;
    if let Some(o) = old {
        ctx.add_variable("oldSelf", o.clone())
            .map_err(|e| e.to_string())?;
    }
    match program.execute(&ctx).map_err(|e| e.to_string())? {
        Cel::Bool(b) => Ok(b),
        other => Err(format!("rule returned {other:?}, not a bool")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn evaluates_self_and_transition_rules() {
        let s = json!({"x-kubernetes-validations": [
            {"rule": "self.min <= self.max", "message": "min must not exceed max"},
            {"rule": "self.max >= oldSelf.max", "message": "max may not shrink", "fieldPath": ".max"},
        ]});
        let mut causes = Vec::new();
        rules(&s, &json!({"min": 1, "max": 2}), None, "spec", &mut causes);
        assert!(causes.is_empty(), "{causes:?}");
        rules(
            &s,
            &json!({"min": 3, "max": 2}),
            Some(&json!({"min": 1, "max": 5})),
            "spec",
            &mut causes,
        );
        let got: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(got, vec!["spec", "spec.max"]);
        assert!(causes[0].message.contains("min must not exceed max"));
    }
}
