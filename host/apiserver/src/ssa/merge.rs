//! Merging an applied configuration into a live object, and removing fields a manager gave up.

use serde_json::{Map, Value};

use super::fieldset::{ListKind, Shape, key_element, keyed};

/// Merges `applied` into `live` the way server-side apply does: maps recursively, list-maps by key, sets by
/// value, everything else (scalars, atomic lists) replaced.
pub fn merge(live: &mut Value, applied: &Value, shape: Shape<'_>) {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) => {
            for (k, av) in a {
                match l.get_mut(k) {
                    Some(lv) => merge(lv, av, shape.child(k)),
                    None => {
                        l.insert(k.clone(), av.clone());
                    }
                }
            }
        }
        (Value::Array(l), Value::Array(a)) => match shape.list_kind() {
            ListKind::Map(keys) if keyed(l, &keys) && keyed(a, &keys) => {
                for item in a {
                    let key = key_element(item, &keys);
                    match l.iter_mut().find(|li| key_element(li, &keys) == key) {
                        Some(li) => merge(li, item, shape.items()),
                        None => l.push(item.clone()),
                    }
                }
            }
            ListKind::Set => {
                for item in a {
                    if !l.contains(item) {
                        l.push(item.clone());
                    }
                }
            }
            _ => *l = a.clone(),
        },
        (l, a) => *l = a.clone(),
    }
}

/// Removes the value at `path` from `obj` (a map key, a list-map item or a set member). Returns whether
/// something was removed.
pub fn remove_at(obj: &mut Value, path: &[String]) -> bool {
    let Some((last, parent_path)) = path.split_last() else {
        return false;
    };
    let mut cur = obj;
    for el in parent_path {
        let next = match step_mut(cur, el) {
            Some(n) => n,
            None => return false,
        };
        cur = next;
    }
    if let Some(f) = last.strip_prefix("f:") {
        return cur.as_object_mut().and_then(|m| m.remove(f)).is_some();
    }
    let Some(items) = cur.as_array_mut() else {
        return false;
    };
    let before = items.len();
    if let Some(k) = last.strip_prefix("k:") {
        if let Ok(key) = serde_json::from_str::<Map<String, Value>>(k) {
            items.retain(|i| !key.iter().all(|(kk, kv)| i.get(kk) == Some(kv)));
        }
    } else if let Some(v) = last.strip_prefix("v:")
        && let Ok(want) = serde_json::from_str::<Value>(v)
    {
        items.retain(|i| *i != want);
    }
    items.len() != before
}

fn step_mut<'a>(cur: &'a mut Value, el: &str) -> Option<&'a mut Value> {
    if let Some(f) = el.strip_prefix("f:") {
        return cur.get_mut(f);
    }
    let items = cur.as_array_mut()?;
    if let Some(k) = el.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        return items
            .iter_mut()
            .find(|i| key.iter().all(|(kk, kv)| i.get(kk) == Some(kv)));
    }
    if let Some(v) = el.strip_prefix("v:") {
        let want: Value = serde_json::from_str(v).ok()?;
        return items.iter_mut().find(|i| **i == want);
    }
    items.get_mut(el.strip_prefix("i:")?.parse::<usize>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_list_maps_by_key_and_replaces_atomic_lists() {
        let mut live =
            json!({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b"}], "args": [1]}});
        let applied =
            json!({"spec": {"containers": [{"name": "a", "image": "2"}, {"name": "c"}], "args": [2]}});
        merge(&mut live, &applied, Shape::root(None));
        assert_eq!(
            live,
            json!({"spec": {"containers": [{"name": "a", "image": "2"}, {"name": "b"}, {"name": "c"}], "args": [2]}})
        );
        assert!(remove_at(
            &mut live,
            &[
                "f:spec".into(),
                "f:containers".into(),
                "k:{\"name\":\"b\"}".into()
            ]
        ));
        assert!(remove_at(&mut live, &["f:spec".into(), "f:args".into()]));
        assert_eq!(
            live,
            json!({"spec": {"containers": [{"name": "a", "image": "2"}, {"name": "c"}]}})
        );
    }
}
