//! Writes: create, update, delete, finalizers, namespace termination and owner-reference garbage collection.

use serde_json::{Value, json};

use super::{Event, EventType, Store, crd_key, ns_key, uid};
use crate::resources::{ResKey, ResourceInfo, crd_status};
use crate::status::{ApiError, ApiResult};
use crate::time::now_rfc3339;

/// The annotation kcp puts on every object stored in a logical cluster.
pub const CLUSTER_ANNOTATION: &str = "kcp.io/cluster";

/// The result of an update.
#[derive(Clone, Debug)]
pub struct Written {
    /// The object as stored (or as it was when removed).
    pub object: Value,
    /// False when the update changed nothing, so no new resourceVersion was assigned.
    pub changed: bool,
}

/// How dependents are treated on delete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are deleted after the owner (the default).
    #[default]
    Background,
    /// Treated like Background here: dependents are deleted, synchronously.
    Foreground,
    /// Dependents keep living; the owner reference is removed.
    Orphan,
}

/// Options of a delete request.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// Dependent handling.
    pub propagation: Propagation,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `preconditions.uid`.
    pub uid: Option<String>,
}

/// Parses `propagationPolicy`.
///
/// # Errors
///
/// 400 for an unknown policy.
pub fn parse_propagation(policy: Option<&str>) -> ApiResult<Propagation> {
    match policy {
        None | Some("Background") => Ok(Propagation::Background),
        Some("Foreground") => Ok(Propagation::Foreground),
        Some("Orphan") => Ok(Propagation::Orphan),
        Some(other) => Err(ApiError::bad_request(format!(
            "unknown propagationPolicy {other:?}"
        ))),
    }
}

fn meta(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .unwrap_or_else(|| unreachable!("metadata was just made an object"))
}

fn str_at<'a>(obj: &'a Value, ptr: &str) -> &'a str {
    obj.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// The object without metadata (and without status when it is a subresource): what `generation` tracks.
fn spec_part(obj: &Value, status_subresource: bool) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("apiVersion");
        m.remove("kind");
        if status_subresource {
            m.remove("status");
        }
    }
    v
}

impl Store {
    fn emit(&mut self, cluster: &str, key: &ResKey, kind: EventType, object: &Value, rv: u64) {
        let namespace = str_at(object, "/metadata/namespace").to_string();
        self.publish(Event {
            cluster: cluster.into(),
            key: key.clone(),
            namespace,
            kind,
            object: object.clone().into(),
            rv,
        });
    }

    fn stamp(&self, cluster: &str, obj: &mut Value, rv: u64) {
        let kcp = self.clusters.get(cluster).is_some_and(|c| c.kcp);
        let m = meta(obj);
        m.insert("resourceVersion".into(), json!(rv.to_string()));
        if kcp {
            let ann = m.entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = ann.as_object_mut() {
                a.insert(CLUSTER_ANNOTATION.into(), json!(cluster));
            }
        }
    }

    /// Stores a new object. The name (and namespace, for namespaced types) must be set.
    ///
    /// # Errors
    ///
    /// 404 when the namespace does not exist, 409 when the name is taken.
    pub fn create(&mut self, cluster: &str, info: &ResourceInfo, mut obj: Value) -> ApiResult<Value> {
        let name = str_at(&obj, "/metadata/name").to_string();
        let ns = if info.namespaced {
            str_at(&obj, "/metadata/namespace").to_string()
        } else {
            String::new()
        };
        let key = info.key();
        let c = self
            .clusters
            .get(cluster)
            .ok_or_else(|| ApiError::internal("unknown cluster"))?;
        if info.namespaced && !c.has_namespace(&ns) {
            return Err(ApiError::not_found("", "namespaces", &ns));
        }
        if c.get(&key, &ns, &name).is_some() {
            return Err(ApiError::already_exists(&info.group, &info.plural, &name));
        }
        let now = now_rfc3339();
        let m = meta(&mut obj);
        m.insert("uid".into(), json!(uid()));
        m.insert("creationTimestamp".into(), json!(now));
        m.insert("generation".into(), json!(1));
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        if !info.namespaced {
            m.remove("namespace");
        }
        if key == ns_key() {
            obj["status"] = json!({"phase": "Active"});
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
        }
        if key == crd_key() {
            obj["status"] = crd_status(&obj, &now);
        }
        let rv = self.next_rv();
        self.stamp(cluster, &mut obj, rv);
        let c = self
            .clusters
            .get_mut(cluster)
            .ok_or_else(|| ApiError::internal("unknown cluster"))?;
        c.objects
            .entry(key.clone())
            .or_default()
            .insert((ns, name), obj.clone());
        if key == crd_key() {
            c.refresh_crds();
        }
        self.emit(cluster, &key, EventType::Added, &obj, rv);
        Ok(obj)
    }

    /// Replaces a stored object with `new`, keeping server-owned metadata. An update that changes nothing
    /// keeps the resourceVersion and publishes no event. If the object is being deleted and its last
    /// finalizer is gone, it is removed.
    ///
    /// # Errors
    ///
    /// 404 when the object does not exist.
    pub fn update(&mut self, cluster: &str, info: &ResourceInfo, mut new: Value) -> ApiResult<Written> {
        let name = str_at(&new, "/metadata/name").to_string();
        let ns = if info.namespaced {
            str_at(&new, "/metadata/namespace").to_string()
        } else {
            String::new()
        };
        let key = info.key();
        let old = self
            .clusters
            .get(cluster)
            .and_then(|c| c.get(&key, &ns, &name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(&info.group, &info.plural, &name))?;
        let old_meta = old.get("metadata").cloned().unwrap_or_default();
        let m = meta(&mut new);
        for k in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match old_meta.get(k) {
                Some(v) => m.insert(k.into(), v.clone()),
                None => m.remove(k),
            };
        }
        if !info.namespaced {
            m.remove("namespace");
        }
        m.insert(
            "resourceVersion".into(),
            old_meta.get("resourceVersion").cloned().unwrap_or_default(),
        );
        if key == crd_key() && spec_part(&old, true) != spec_part(&new, true) {
            let now = now_rfc3339();
            new["status"] = crd_status(&new, &now);
        }
        if self.clusters.get(cluster).is_some_and(|c| c.kcp) {
            let ann = meta(&mut new).entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = ann.as_object_mut() {
                a.insert(CLUSTER_ANNOTATION.into(), json!(cluster));
            }
        }
        if new == old {
            return Ok(Written {
                object: old,
                changed: false,
            });
        }
        if spec_part(&old, info.status) != spec_part(&new, info.status) {
            let g = old_meta.get("generation").and_then(Value::as_i64).unwrap_or(0) + 1;
            meta(&mut new).insert("generation".into(), json!(g));
        }
        let rv = self.next_rv();
        self.stamp(cluster, &mut new, rv);
        if old_meta.get("deletionTimestamp").is_some() && !has_finalizers(&new) {
            self.set(cluster, &key, &ns, &name, new.clone());
            let gone = self.remove(cluster, &key, &ns, &name, Propagation::Background);
            return Ok(Written {
                object: gone.unwrap_or(new),
                changed: true,
            });
        }
        self.set(cluster, &key, &ns, &name, new.clone());
        self.emit(cluster, &key, EventType::Modified, &new, rv);
        Ok(Written {
            object: new,
            changed: true,
        })
    }

    fn set(&mut self, cluster: &str, key: &ResKey, ns: &str, name: &str, obj: Value) {
        if let Some(c) = self.clusters.get_mut(cluster) {
            c.objects
                .entry(key.clone())
                .or_default()
                .insert((ns.to_string(), name.to_string()), obj);
            if *key == crd_key() {
                c.refresh_crds();
            }
        }
    }

    /// Deletes an object: marks it with a deletionTimestamp while it has finalizers (or, for a namespace, while
    /// it has contents), removes it otherwise. Returns the object as last stored.
    ///
    /// # Errors
    ///
    /// 404 when absent, 409 when a precondition fails.
    pub fn delete(
        &mut self,
        cluster: &str,
        info: &ResourceInfo,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> ApiResult<Value> {
        let key = info.key();
        let ns = if info.namespaced { ns } else { "" };
        let obj = self
            .clusters
            .get(cluster)
            .and_then(|c| c.get(&key, ns, name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(&info.group, &info.plural, name))?;
        if let Some(want) = &opts.resource_version
            && str_at(&obj, "/metadata/resourceVersion") != want
        {
            return Err(ApiError::conflict(
                &info.group,
                &info.plural,
                name,
                "the ResourceVersion in the precondition does not match the ResourceVersion in record",
            ));
        }
        if let Some(want) = &opts.uid
            && str_at(&obj, "/metadata/uid") != want
        {
            return Err(ApiError::conflict(
                &info.group,
                &info.plural,
                name,
                "the UID in the precondition does not match the UID in record",
            ));
        }
        if key == ns_key() {
            return Ok(self.delete_namespace(cluster, obj, name));
        }
        if has_finalizers(&obj) {
            if obj.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(obj);
            }
            let mut marked = obj;
            let m = meta(&mut marked);
            m.insert("deletionTimestamp".into(), json!(now_rfc3339()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            let rv = self.next_rv();
            self.stamp(cluster, &mut marked, rv);
            self.set(cluster, &key, ns, name, marked.clone());
            self.emit(cluster, &key, EventType::Modified, &marked, rv);
            return Ok(marked);
        }
        Ok(self
            .remove(cluster, &key, ns, name, opts.propagation)
            .unwrap_or(obj))
    }

    fn delete_namespace(&mut self, cluster: &str, mut obj: Value, name: &str) -> Value {
        let key = ns_key();
        if obj.pointer("/metadata/deletionTimestamp").is_none() {
            meta(&mut obj).insert("deletionTimestamp".into(), json!(now_rfc3339()));
            obj["status"] = json!({"phase": "Terminating"});
            let rv = self.next_rv();
            self.stamp(cluster, &mut obj, rv);
            self.set(cluster, &key, "", name, obj.clone());
            self.emit(cluster, &key, EventType::Modified, &obj, rv);
        }
        let contents: Vec<(ResKey, String)> = self
            .clusters
            .get(cluster)
            .map(|c| {
                c.objects
                    .iter()
                    .filter(|(k, _)| **k != key)
                    .flat_map(|(k, objs)| {
                        objs.keys()
                            .filter(|(n, _)| n == name)
                            .map(|(_, o)| (k.clone(), o.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (k, n) in contents {
            self.delete_by_key(cluster, &k, name, &n, Propagation::Background);
        }
        self.finish_namespace(cluster, name);
        self.clusters
            .get(cluster)
            .and_then(|c| c.get(&key, "", name))
            .cloned()
            .unwrap_or(obj)
    }

    /// Deletes by storage key (used where no [`ResourceInfo`] is at hand: cascades).
    fn delete_by_key(&mut self, cluster: &str, key: &ResKey, ns: &str, name: &str, p: Propagation) {
        let Some(obj) = self
            .clusters
            .get(cluster)
            .and_then(|c| c.get(key, ns, name))
            .cloned()
        else {
            return;
        };
        if has_finalizers(&obj) {
            if obj.pointer("/metadata/deletionTimestamp").is_none() {
                let mut marked = obj;
                meta(&mut marked).insert("deletionTimestamp".into(), json!(now_rfc3339()));
                let rv = self.next_rv();
                self.stamp(cluster, &mut marked, rv);
                self.set(cluster, key, ns, name, marked.clone());
                self.emit(cluster, key, EventType::Modified, &marked, rv);
            }
        } else {
            self.remove(cluster, key, ns, name, p);
        }
    }

    /// A terminating namespace goes away once it is empty and has no finalizers left.
    fn finish_namespace(&mut self, cluster: &str, ns: &str) {
        let Some(c) = self.clusters.get(cluster) else {
            return;
        };
        let Some(obj) = c.get(&ns_key(), "", ns) else {
            return;
        };
        if obj.pointer("/metadata/deletionTimestamp").is_some()
            && !has_finalizers(obj)
            && c.namespace_empty(ns)
        {
            self.remove(cluster, &ns_key(), "", ns, Propagation::Background);
        }
    }

    /// Removes an object for good: publishes DELETED, drops a CRD's objects, collects dependents.
    fn remove(&mut self, cluster: &str, key: &ResKey, ns: &str, name: &str, p: Propagation) -> Option<Value> {
        let c = self.clusters.get_mut(cluster)?;
        let mut obj = c
            .objects
            .get_mut(key)?
            .remove(&(ns.to_string(), name.to_string()))?;
        let rv = self.next_rv();
        self.stamp(cluster, &mut obj, rv);
        self.emit(cluster, key, EventType::Deleted, &obj, rv);
        if *key == crd_key() {
            self.drop_crd_objects(cluster, &obj);
        }
        self.collect_dependents(cluster, str_at(&obj, "/metadata/uid"), p);
        if !ns.is_empty() {
            self.finish_namespace(cluster, ns);
        }
        Some(obj)
    }

    fn drop_crd_objects(&mut self, cluster: &str, crd: &Value) {
        let key = (
            str_at(crd, "/spec/group").to_string(),
            str_at(crd, "/spec/names/plural").to_string(),
        );
        if let Some(c) = self.clusters.get_mut(cluster) {
            c.refresh_crds();
        }
        let names: Vec<(String, String)> = self
            .clusters
            .get(cluster)
            .and_then(|c| c.objects.get(&key))
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for (ns, n) in names {
            self.remove(cluster, &key, &ns, &n, Propagation::Background);
        }
    }

    /// Garbage collection: dependents lose the owner reference; those left without owners are deleted unless
    /// the policy orphans them.
    fn collect_dependents(&mut self, cluster: &str, owner_uid: &str, p: Propagation) {
        if owner_uid.is_empty() {
            return;
        }
        let Some(c) = self.clusters.get(cluster) else {
            return;
        };
        let dependents: Vec<(ResKey, String, String)> = c
            .objects
            .iter()
            .flat_map(|(k, objs)| {
                objs.iter()
                    .filter(|(_, o)| {
                        o.pointer("/metadata/ownerReferences")
                            .and_then(Value::as_array)
                            .is_some_and(|refs| {
                                refs.iter()
                                    .any(|r| r.get("uid").and_then(Value::as_str) == Some(owner_uid))
                            })
                    })
                    .map(|((ns, n), _)| (k.clone(), ns.clone(), n.clone()))
            })
            .collect();
        for (key, ns, name) in dependents {
            let Some(mut dep) = self
                .clusters
                .get(cluster)
                .and_then(|c| c.get(&key, &ns, &name))
                .cloned()
            else {
                continue;
            };
            let mut remaining = 0;
            if let Some(refs) = dep
                .pointer_mut("/metadata/ownerReferences")
                .and_then(Value::as_array_mut)
            {
                refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid));
                remaining = refs.len();
                if refs.is_empty() {
                    meta(&mut dep).remove("ownerReferences");
                }
            }
            if remaining == 0 && p != Propagation::Orphan {
                self.delete_by_key(cluster, &key, &ns, &name, Propagation::Background);
                continue;
            }
            let rv = self.next_rv();
            self.stamp(cluster, &mut dep, rv);
            self.set(cluster, &key, &ns, &name, dep.clone());
            self.emit(cluster, &key, EventType::Modified, &dep, rv);
        }
    }
}
