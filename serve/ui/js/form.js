// A config form generated from a node type's JSON schema, with pickers for catalog references.
import { h } from "/ui/js/dom.js";

function deref(schema, root) {
  let guard = 0;
  while (schema && schema.$ref && guard++ < 10) {
    const name = schema.$ref.split("/").pop();
    schema = (root.$defs || {})[name] || {};
  }
  return schema || {};
}

// {schema, optional}: strips `anyOf [X, null]` to X.
function unwrap(schema, root) {
  schema = deref(schema, root);
  const alts = schema.anyOf || schema.oneOf;
  if (alts) {
    const nonNull = alts.map((a) => deref(a, root)).filter((a) => a.type !== "null");
    if (nonNull.length === 1) return { schema: { ...nonNull[0], description: schema.description, default: schema.default, title: schema.title }, optional: nonNull.length < alts.length };
  }
  return { schema, optional: false };
}

function enumOf(schema) {
  if (schema.enum) return schema.enum;
  if (schema.const !== undefined) return [schema.const];
  return null;
}

function defaultText(schema) {
  return schema.default === undefined || schema.default === null ? "" : ` (default ${JSON.stringify(schema.default)})`;
}

/**
 * @param {object} nodeType  an item of GET /api/node-types
 * @param {object} config    the node's config
 * @param {object} opts      {resources: {kind: [ids]}, problems: [{path, message}], onChange(name, value), readonly}
 */
export function configForm(nodeType, config, opts) {
  const root = nodeType.configSchema || {};
  const props = root.properties || {};
  const required = new Set(root.required || []);
  const wrap = h("div.config-form", { "data-testid": "config-form" });
  const problemsFor = (name) =>
    (opts.problems || []).filter((p) => p.path === `config.${name}` || p.path.startsWith(`config.${name}.`));
  for (const [name, raw] of Object.entries(props)) {
    const { schema, optional } = unwrap(raw, root);
    const ref = (nodeType.resourceRefs || {})[name];
    const value = config[name];
    const set = (v) => opts.onChange(name, v);
    let input;
    if (ref) input = refPicker(name, ref, value, opts.resources[ref.kind] || [], set, opts.readonly);
    else input = scalarInput(name, schema, value, set, opts.readonly);
    const probs = problemsFor(name);
    wrap.append(
      h(`div.field${probs.length ? ".has-problem" : ""}`, { "data-field": name, "data-testid": `field-${name}` },
        h("label", { for: `f-${name}` }, name, required.has(name) && !optional ? " *" : ""),
        input,
        raw.description || schema.description ? h("div.desc", {}, raw.description || schema.description) : null,
        probs.map((p) => h("div.problem", { "data-testid": `field-problem-${name}` }, p.message))),
    );
  }
  const unknown = (opts.problems || []).filter(
    (p) => p.path.startsWith("config") && !Object.keys(props).some((n) => p.path === `config.${n}` || p.path.startsWith(`config.${n}.`)),
  );
  for (const p of unknown) wrap.append(h("div.field.has-problem", {}, h("div.problem", {}, `${p.path}: ${p.message}`)));
  return wrap;
}

function refPicker(name, ref, value, ids, set, readonly) {
  const options = [...new Set([...ids, ...(ref.builtins || [])])];
  if (ref.many) {
    const chosen = new Set(Array.isArray(value) ? value.filter((v) => typeof v === "string") : []);
    for (const v of chosen) if (!options.includes(v)) options.push(v);
    return h("div.checks", { id: `f-${name}`, "data-testid": `picker-${name}` },
      options.length ? options.map((id) =>
        h("label", {},
          h("input", {
            type: "checkbox", value: id, checked: chosen.has(id), disabled: readonly,
            onchange: (e) => {
              if (e.target.checked) chosen.add(id);
              else chosen.delete(id);
              const keep = Array.isArray(value) ? value.filter((v) => typeof v !== "string") : [];
              const list = [...options.filter((o) => chosen.has(o)), ...keep];
              set(list.length ? list : undefined);
            },
          }), id)) : h("span.muted", {}, `no ${ref.kind} stored yet`));
  }
  const sel = h("select", {
    id: `f-${name}`, "data-testid": `picker-${name}`, disabled: readonly,
    onchange: (e) => set(e.target.value || undefined),
  }, h("option", { value: "" }, `— ${ref.kind} —`));
  const all = value && !options.includes(value) ? [value, ...options] : options;
  for (const id of all) sel.append(h("option", { value: id, selected: id === value }, id));
  return sel;
}

function scalarInput(name, schema, value, set, readonly) {
  const choices = enumOf(schema);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (choices) {
    const sel = h("select", { id: `f-${name}`, disabled: readonly, onchange: (e) => set(e.target.value === "" ? undefined : JSON.parse(e.target.value)) },
      h("option", { value: "" }, `—${defaultText(schema)}`));
    for (const c of choices) sel.append(h("option", { value: JSON.stringify(c), selected: value === c }, String(c)));
    return sel;
  }
  if (type === "boolean") {
    const sel = h("select", { id: `f-${name}`, disabled: readonly, onchange: (e) => set(e.target.value === "" ? undefined : e.target.value === "true") },
      h("option", { value: "" }, `—${defaultText(schema)}`),
      h("option", { value: "true", selected: value === true }, "true"),
      h("option", { value: "false", selected: value === false }, "false"));
    return sel;
  }
  if (type === "integer" || type === "number") {
    return h("input", {
      id: `f-${name}`, type: "number", step: type === "integer" ? "1" : "any", disabled: readonly,
      value: value ?? "", placeholder: defaultText(schema).trim(),
      onchange: (e) => set(e.target.value === "" ? undefined : Number(e.target.value)),
    });
  }
  if (type === "string") {
    return h("input", {
      id: `f-${name}`, type: "text", disabled: readonly, value: value ?? "", placeholder: defaultText(schema).trim(),
      onchange: (e) => set(e.target.value === "" ? undefined : e.target.value),
    });
  }
  // objects, arrays and unions: edited as JSON
  const ta = h("textarea", {
    id: `f-${name}`, rows: 2, disabled: readonly, placeholder: `JSON${defaultText(schema)}`,
    value: value === undefined ? "" : JSON.stringify(value),
    onchange: (e) => {
      const text = e.target.value.trim();
      if (!text) return set(undefined);
      try {
        set(JSON.parse(text));
      } catch (err) {
        e.target.setCustomValidity(`not JSON: ${err.message}`);
        e.target.reportValidity();
      }
    },
  });
  return ta;
}
