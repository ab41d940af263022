/* nwm_geo decision explorer: recomputes what-ifs in the page, offline.
 * The data (element #nwm-data) is written by nwm_geo.explorer; the rules mirror
 * nwm_geo.scenarios.compare (see docs/explorer.md). No network request is made. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("nwm-data").textContent);
  var T0 = (window.performance && performance.now) ? performance.now() : 0;

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"'`$\\]/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function bytes(b64) {
    var bin = atob(b64), n = bin.length, u = new Uint8Array(n);
    for (var i = 0; i < n; i++) { u[i] = bin.charCodeAt(i); }
    return u;
  }
  function unpack(r) {
    var pb = bytes(r.points), mb = bytes(r.metres32);
    var pts = r.point_dtype === "uint16" ? new Uint16Array(pb.buffer) : new Uint32Array(pb.buffer);
    var m32 = new Float32Array(mb.buffer), m = new Float64Array(m32.length);
    for (var i = 0; i < m32.length; i++) { m[i] = m32[i]; }
    r.exact.forEach(function (e) { m[e[0]] = e[1]; });
    return { off: r.offsets, pts: pts, m: m };
  }

  // ---- the model ----------------------------------------------------------
  var REACH = unpack(D.reach), CREACH = unpack(D.candidate_reach);
  var P = D.points, NP = P.id.length, W = D.wards, NW = W.length;
  var POP = Float64Array.from(P.population);
  var CATS = D.categories, BUNDLES = D.bundles, BNAMES = Object.keys(BUNDLES);
  var MEASURES = CATS.concat(BNAMES);
  if (BNAMES.length) { MEASURES.push(D.all_bundles); }
  var SET = D.settings, TOL = SET.tolerance_m;
  var siteIndex = {}, sitesByCat = {}, byName = {};
  CATS.forEach(function (c) { sitesByCat[c] = []; });
  D.sites.forEach(function (s, i) {
    siteIndex[s.id] = i;
    if (sitesByCat[s.category]) { sitesByCat[s.category].push(i); }
    (byName[s.name] = byName[s.name] || []).push(s.id);
  });
  var wardIndex = {};
  W.forEach(function (w, i) { wardIndex[w.code] = i; });

  function relax(best, R, s) {
    for (var k = R.off[s], e = R.off[s + 1]; k < e; k++) {
      var p = R.pts[k], d = R.m[k];
      if (d < best[p]) { best[p] = d; }
    }
  }
  var BASE_BEST = null;
  function nearest(st) {
    var best = {}, touched = {};
    Object.keys(st.closed).forEach(function (id) { touched[D.sites[siteIndex[id]].category] = true; });
    st.add.forEach(function (a) { touched[a.category] = true; });
    CATS.forEach(function (c) {
      if (BASE_BEST && !touched[c]) { best[c] = BASE_BEST[c]; return; }  // unchanged: shared
      var b = new Float64Array(NP).fill(Infinity);
      sitesByCat[c].forEach(function (si) { if (!st.closed[D.sites[si].id]) { relax(b, REACH, si); } });
      st.add.forEach(function (a) { if (a.category === c) { relax(b, CREACH, a.candidate); } });
      best[c] = b;
    });
    return best;
  }
  // the one "within" rule (nwm_geo._units.within_minutes): metres / speed <= minutes + tol / speed
  function flags(best, minutes, speed) {
    var lim = minutes + TOL / speed, F = {};
    var same = BASE_F && minutes === BASE.minutes && speed === BASE.speed;
    CATS.forEach(function (c) {
      if (same && best[c] === BASE_BEST[c]) { F[c] = BASE_F[c]; return; }
      var b = best[c], f = new Uint8Array(NP);
      for (var p = 0; p < NP; p++) { f[p] = (b[p] / speed <= lim) ? 1 : 0; }
      F[c] = f;
    });
    BNAMES.forEach(function (n) {
      var f = new Uint8Array(NP);
      BUNDLES[n].forEach(function (c) { var g = F[c]; for (var p = 0; p < NP; p++) { f[p] |= g[p]; } });
      F[n] = f;
    });
    if (BNAMES.length) {
      var all = new Uint8Array(NP).fill(1);
      BNAMES.forEach(function (n) { var g = F[n]; for (var p = 0; p < NP; p++) { all[p] &= g[p]; } });
      F[D.all_bundles] = all;
    }
    return F;
  }
  // numpy's round(x, 2): multiply, round half to even, divide
  function rint(y) {
    if (!isFinite(y)) { return y; }
    var r = Math.round(y);
    if (Math.abs(y % 1) === 0.5) { r = 2 * Math.round(y / 2); }
    return r;
  }
  function round2(x) { return (x === null || !isFinite(x)) ? null : rint(x * 100) / 100; }

  function wardLocalities(st) {
    return W.map(function (w) { return Object.prototype.hasOwnProperty.call(st.moves, w.code) ? st.moves[w.code] : w.locality; });
  }
  function cmpStr(a, b) { return a < b ? -1 : (a > b ? 1 : 0); }

  // group the points by key and build comparison rows (nwm_geo.scenarios._compare._table)
  function table(keys, BF, SF, extra) {
    var index = {}, order = [], gi = new Int32Array(NP);
    for (var p = 0; p < NP; p++) {
      var k = keys[p];
      if (index[k] === undefined) { index[k] = order.length; order.push(k); }
      gi[p] = index[k];
    }
    var G = order.length, pop = new Float64Array(G);
    for (p = 0; p < NP; p++) { pop[gi[p]] += P.population[p]; }
    var sums = MEASURES.map(function (m) {
      var bf = BF[m], sf = SF[m], a = [new Float64Array(G), new Float64Array(G), new Float64Array(G), new Float64Array(G)];
      for (var q = 0; q < NP; q++) {
        var w = POP[q], g = gi[q], b = bf[q], s = sf[q];
        if (b) { a[0][g] += w; }
        if (s) { a[1][g] += w; }
        if (b && !s) { a[2][g] += w; }
        if (!b && s) { a[3][g] += w; }
      }
      return a;
    });
    var rows = [];
    order.map(function (k, g) { return [k, g]; }).sort(function (x, y) { return cmpStr(x[0], y[0]); }).forEach(function (kg) {
      var k = kg[0], g = kg[1], n = pop[g];
      MEASURES.forEach(function (m, j) {
        var a = sums[j], bp = n > 0 ? round2(a[0][g] / n * 100) : null;
        var sp = n > 0 ? round2(a[1][g] / n * 100) : null;
        var row = extra(k);
        row.measure = m;
        row.population = n;
        row.baseline_covered = a[0][g];
        row.scenario_covered = a[1][g];
        row.baseline_pct = bp;
        row.scenario_pct = sp;
        row.change_pct_points = (bp === null || sp === null) ? null : round2(sp - bp);
        row.residents_losing = a[2][g];
        row.residents_gaining = a[3][g];
        rows.push(row);
      });
    });
    return rows;
  }

  // residents losing and gaining per IMD quintile and age band (coverage.group_split)
  var GROUPS = (function () {
    var out = [];
    if (P.imd_quintile) {
      var ql = { 1: "1 (most deprived)", 5: "5 (least deprived)" };
      for (var q = 1; q <= 5; q++) {
        var w = new Float64Array(NP);
        for (var p = 0; p < NP; p++) { w[p] = P.imd_quintile[p] === q ? P.population[p] : 0; }
        out.push({ label: "IMD quintile " + (ql[q] || String(q)), w: w });
      }
    }
    if (P.age) {
      var al = { age_0_15: "0-15", age_16_24: "16-24", age_25_34: "25-34", age_35_49: "35-49", age_50_64: "50-64", age_65_plus: "65+" };
      Object.keys(P.age).forEach(function (band) {
        out.push({ label: "age " + (al[band] || band), w: Float64Array.from(P.age[band]) });
      });
    }
    out.forEach(function (g) { var t = 0; for (var p = 0; p < NP; p++) { t += g.w[p]; } g.total = t; });
    return out;
  })();
  function equity(BF, SF) {
    var out = [];
    MEASURES.forEach(function (m) {
      var bf = BF[m], sf = SF[m], changed = [];
      for (var p = 0; p < NP; p++) { if (bf[p] !== sf[p]) { changed.push(p); } }
      GROUPS.forEach(function (g) {
        var lo = 0, ga = 0;
        changed.forEach(function (q) { if (bf[q]) { lo += g.w[q]; } else { ga += g.w[q]; } });
        out.push({ group: g.label, measure: m, population: g.total, residents_losing: lo, residents_gaining: ga });
      });
    });
    return out;
  }

  function parts(wl) {
    var parent = W.map(function (_, i) { return i; });
    function find(i) { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; }
    D.adjacency.forEach(function (e) {
      if (wl[e[0]] === wl[e[1]]) { parent[find(e[0])] = find(e[1]); }
    });
    var seen = {}, out = {};
    W.forEach(function (_, i) {
      var r = find(i), l = wl[i];
      seen[l] = seen[l] || {};
      if (!seen[l][r]) { seen[l][r] = true; out[l] = (out[l] || 0) + 1; }
    });
    return out;
  }

  function bestHubs(st, wl, pointLoc) {
    var lim = st.minutes + TOL / st.speed, out = {};
    D.hubs.forEach(function (h) {
      var R, s, ward;
      if (h.site !== undefined) {
        if (st.closed[D.sites[h.site].id]) { return; }
        R = REACH; s = h.site; ward = D.sites[h.site].ward;
      } else { R = CREACH; s = h.candidate; ward = D.candidates[h.candidate].ward; }
      if (ward < 0) { return; }
      var loc = wl[ward], score = 0;
      for (var k = R.off[s], e = R.off[s + 1]; k < e; k++) {
        var p = R.pts[k];
        if (pointLoc[p] === loc && R.m[k] / st.speed <= lim) { score += P.population[p]; }
      }
      if (!out[loc] || score > out[loc].score) { out[loc] = { name: h.name, id: h.id, score: score }; }
    });
    return out;
  }

  // ---- state ---------------------------------------------------------------
  var BASE = { closed: {}, add: [], moves: {}, minutes: SET.minutes, speed: SET.speed_m_per_min };
  var BASE_F = null;
  BASE_BEST = nearest(BASE);
  BASE_F = flags(BASE_BEST, BASE.minutes, BASE.speed);
  var state = { closed: {}, add: [], moves: {}, minutes: SET.minutes, speed: SET.speed_m_per_min };
  var result = null;

  function compute() {
    var t = performance.now();
    var SF = flags(nearest(state), state.minutes, state.speed);
    var wl = wardLocalities(state);
    var pointLoc = new Array(NP), pointWard = new Array(NP), area = new Array(NP);
    for (var p = 0; p < NP; p++) {
      var w = P.ward[p];
      pointLoc[p] = w >= 0 ? wl[w] : "nan";
      pointWard[p] = w >= 0 ? W[w].code + "\u0000" + W[w].name + "\u0000" + wl[w] : "nan";
      area[p] = D.area;
    }
    var locRows = table(pointLoc, BASE_F, SF, function (k) { return { locality: k }; });
    var areaRows = table(area, BASE_F, SF, function (k) { return { locality: k }; });
    var wardRows = table(pointWard, BASE_F, SF, function (k) {
      var x = k.split("\u0000");
      return { ward_code: x[0], ward_name: x[1], locality: x[2] };
    });
    result = {
      localities: locRows.concat(areaRows),
      wards: wardRows,
      equity: equity(BASE_F, SF),
      parts: parts(wl),
      hubs: bestHubs(state, wl, pointLoc),
      wl: wl,
      SF: SF
    };
    result.ms = performance.now() - t;
    return result;
  }

  // ---- scenario input (fragment, TOML import) --------------------------------
  function normPostcode(s) { return String(s).toUpperCase().split(/\s+/).filter(Boolean).join(" "); }
  function findCandidate(a) {
    for (var i = 0; i < D.candidates.length; i++) {
      var k = D.candidates[i].key, c = D.candidates[i];
      if (a.postcode !== undefined && k.postcode !== undefined && normPostcode(a.postcode) === k.postcode) { return i; }
      if (a.easting !== undefined && k.easting !== undefined && Number(a.easting) === k.easting && Number(a.northing) === k.northing) { return i; }
      if (a.lon !== undefined && Math.abs(Number(a.lon) - c.lon) < 5e-7 && Math.abs(Number(a.lat) - c.lat) < 5e-7) { return i; }
    }
    return -1;
  }
  function scenarioState(sc) {
    var errors = [], st = { closed: {}, add: [], moves: {}, minutes: SET.minutes, speed: SET.speed_m_per_min };
    if (!sc || typeof sc !== "object" || Array.isArray(sc)) { return { errors: ["the scenario must be a JSON object"] }; }
    Object.keys(sc).forEach(function (k) {
      if (["close", "add", "moves", "minutes", "speed_m_per_min", "name", "description"].indexOf(k) < 0) { errors.push("unknown key '" + k + "'"); }
    });
    (sc.close || []).forEach(function (c, i) {
      var id = String(c);
      if (siteIndex[id] === undefined) {
        var named = byName[id] || [];
        if (named.length === 1) { id = named[0]; }
        else { errors.push("close[" + (i + 1) + "]: " + (named.length ? "several assets have this name; give the asset_id" : "no asset with this asset_id or exact name") + " (" + id + ")"); return; }
      }
      if (st.closed[id]) { errors.push("close[" + (i + 1) + "]: this asset is closed twice (" + id + ")"); }
      st.closed[id] = true;
    });
    (sc.add || []).forEach(function (a, i) {
      if (!a || typeof a !== "object") { errors.push("add[" + (i + 1) + "]: must be an object"); return; }
      if (CATS.indexOf(a.category) < 0) { errors.push("add[" + (i + 1) + "].category: not a category of " + D.area + " (" + a.category + ")"); return; }
      var ci = findCandidate(a);
      if (ci < 0) { errors.push("add[" + (i + 1) + "]: not one of the new-site candidates this file holds; use nwm-geo scenario for other places"); return; }
      var name = (a.name && String(a.name).trim()) ? String(a.name) : ("New " + a.category + " at " + D.candidates[ci].label);
      st.add.push({ category: a.category, candidate: ci, name: name });
    });
    var moves = sc.moves || {};
    Object.keys(moves).forEach(function (code) {
      if (wardIndex[code] === undefined) { errors.push("moves: unknown ward code " + code); return; }
      var loc = String(moves[code]).trim();
      if (!loc) { errors.push("moves: empty locality name for " + code); return; }
      st.moves[code] = loc;
    });
    if (sc.minutes !== undefined) { st.minutes = Number(sc.minutes); }
    if (sc.speed_m_per_min !== undefined) { st.speed = Number(sc.speed_m_per_min); }
    if (!(st.minutes > 0 && st.minutes <= 120)) { errors.push("minutes must be more than 0 and at most 120"); }
    if (!(st.speed >= 20 && st.speed <= 150)) { errors.push("speed_m_per_min must be from 20 to 150"); }
    if (st.minutes * st.speed > SET.cap_m + 1e-9) {
      errors.push("minutes x speed is beyond the " + SET.cap_m + " m this file holds (" + st.minutes + " min at " + st.speed + " m/min)");
    }
    return { state: st, errors: errors };
  }
  function stateScenario(st) {
    var out = { close: Object.keys(st.closed), add: st.add.map(function (a) {
      var o = { name: a.name, category: a.category }, k = D.candidates[a.candidate].key;
      Object.keys(k).forEach(function (x) { o[x] = k[x]; });
      return o;
    }), moves: st.moves };
    if (st.minutes !== SET.minutes) { out.minutes = st.minutes; }
    if (st.speed !== SET.speed_m_per_min) { out.speed_m_per_min = st.speed; }
    return out;
  }
  function decodeFragment(hash) {
    var m = /(?:^#|&)scenario=([A-Za-z0-9_\-=]*)/.exec(hash || "");
    if (!m) { return null; }
    var b = m[1].replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    while (b.length % 4) { b += "="; }
    var text = new TextDecoder("utf-8").decode(bytes(b));
    return JSON.parse(text);
  }
  function encodeFragment(sc) {
    var u = new TextEncoder().encode(JSON.stringify(sc)), bin = "";
    for (var i = 0; i < u.length; i++) { bin += String.fromCharCode(u[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // ---- exports --------------------------------------------------------------
  function tomlString(s) { return JSON.stringify(String(s)); }
  function tomlNumber(x) { var s = String(x); return /[.eE]/.test(s) ? s : s + ".0"; }
  function scenarioToml(st) {
    var lines = ["# Scenario exported from the nwm_geo explorer (" + D.area + ")",
      "# Run it with: nwm-geo scenario explorer-scenario.toml" + (Object.keys(st.moves).length ? " (plan: the plan CSV exported with it)" : ""),
      'name = "explorer-scenario"',
      'description = "Exported from the decision explorer"'];
    if (Object.keys(st.moves).length) { lines.push('plan = "explorer-plan.csv"'); }
    Object.keys(st.closed).forEach(function (id) { lines.push("", "[[close]]", "asset_id = " + tomlString(id)); });
    st.add.forEach(function (a) {
      var k = D.candidates[a.candidate].key;
      lines.push("", "[[add]]", "name = " + tomlString(a.name), "category = " + tomlString(a.category));
      if (k.postcode !== undefined) { lines.push("postcode = " + tomlString(k.postcode)); }
      else { lines.push("easting = " + tomlNumber(k.easting), "northing = " + tomlNumber(k.northing)); }
    });
    if (st.minutes !== SET.minutes || st.speed !== SET.speed_m_per_min) {
      lines.push("", "[settings]");
      if (st.minutes !== SET.minutes) { lines.push("minutes = " + tomlNumber(st.minutes)); }
      if (st.speed !== SET.speed_m_per_min) { lines.push("speed_m_per_min = " + tomlNumber(st.speed)); }
    }
    return lines.join("\n") + "\n";
  }
  function csvCell(s) {
    s = String(s);
    if (/^[=+\-@\t\r]/.test(s)) { s = "'" + s; }
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function planCsv(st) {
    var wl = wardLocalities(st), lines = ["ward_code,ward_name,locality"];
    W.forEach(function (w, i) { lines.push([w.code, w.name, wl[i]].map(csvCell).join(",")); });
    return lines.join("\n") + "\n";
  }
  function comparisonCsv(rows) {
    var cols = ["locality", "measure", "population", "baseline_covered", "scenario_covered", "baseline_pct", "scenario_pct", "change_pct_points", "residents_losing", "residents_gaining"];
    return [cols.join(",")].concat(rows.map(function (r) {
      return cols.map(function (c) { return r[c] === null ? "" : csvCell(r[c]); }).join(",");
    })).join("\n") + "\n";
  }
  function download(name, text, type) {
    var a = el("a", { download: name });
    a.href = URL.createObjectURL(new Blob([text], { type: type }));
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  // ---- TOML and plan import (the subset scenario files use) ------------------
  function parseToml(text) {
    var out = {}, cur = out, errors = [];
    text.split(/\r?\n/).forEach(function (raw, n) {
      var line = raw.trim();
      if (!line || line[0] === "#") { return; }
      var m;
      if ((m = /^\[\[\s*([A-Za-z_]+)\s*\]\]\s*(#.*)?$/.exec(line))) {
        out[m[1]] = out[m[1]] || []; cur = {}; out[m[1]].push(cur); return;
      }
      if ((m = /^\[\s*([A-Za-z_]+)\s*\]\s*(#.*)?$/.exec(line))) { cur = out[m[1]] = out[m[1]] || {}; return; }
      if ((m = /^([A-Za-z0-9_\-]+)\s*=\s*(.+)$/.exec(line))) {
        var v = m[2].trim(), val;
        var s = /^("(?:[^"\\]|\\.)*")\s*(#.*)?$/.exec(v), l = /^'([^']*)'\s*(#.*)?$/.exec(v);
        if (s) { val = JSON.parse(s[1]); }
        else if (l) { val = l[1]; }
        else if (/^(true|false)\s*(#.*)?$/.test(v)) { val = v.indexOf("true") === 0; }
        else {
          var num = v.replace(/#.*$/, "").trim().replace(/_/g, "");
          if (/^[+\-]?(\d+(\.\d*)?|\.\d+)([eE][+\-]?\d+)?$/.test(num)) { val = Number(num); }
          else { errors.push("line " + (n + 1) + ": cannot read the value " + v); return; }
        }
        cur[m[1]] = val; return;
      }
      errors.push("line " + (n + 1) + ": not understood: " + line);
    });
    return { data: out, errors: errors };
  }
  function tomlScenario(d) {
    var sc = {};
    sc.close = (d.close || []).map(function (c) { return c.asset_id !== undefined ? c.asset_id : c.name; });
    sc.add = (d.add || []).map(function (a) { return a; });
    var s = d.settings || {};
    if (s.minutes !== undefined) { sc.minutes = s.minutes; }
    if (s.speed_m_per_min !== undefined) { sc.speed_m_per_min = s.speed_m_per_min; }
    return sc;
  }
  function parseCsvLine(line) {
    var out = [], cur = "", q = false;
    for (var i = 0; i < line.length; i++) {
      var c = line[i];
      if (q) { if (c === '"') { if (line[i + 1] === '"') { cur += '"'; i++; } else { q = false; } } else { cur += c; } }
      else if (c === '"') { q = true; }
      else if (c === ",") { out.push(cur); cur = ""; }
      else { cur += c; }
    }
    out.push(cur);
    return out;
  }
  function planMoves(text) {
    var lines = text.split(/\r?\n/).filter(function (x) { return x.trim(); });
    var head = parseCsvLine(lines[0]).map(function (h) { return h.trim().toLowerCase(); });
    var wc = head.indexOf("ward_code"), lc = head.indexOf("locality");
    if (wc < 0 || lc < 0) { return { errors: ["the plan needs ward_code and locality columns"] }; }
    var moves = {}, errors = [];
    lines.slice(1).forEach(function (line, i) {
      var r = parseCsvLine(line), code = (r[wc] || "").trim(), loc = (r[lc] || "").trim();
      if (wardIndex[code] === undefined) { errors.push("row " + (i + 2) + ": unknown ward code " + code); return; }
      if (loc !== W[wardIndex[code]].locality) { moves[code] = loc; }
    });
    return { moves: moves, errors: errors };
  }

  // ---- the page ---------------------------------------------------------------
  var PAL = D.palette;
  var localities = D.localities.slice();
  function locColour(name) {
    var i = localities.indexOf(name);
    if (i < 0) { localities.push(name); i = localities.length - 1; }
    return PAL.localities[i % PAL.localities.length];
  }
  var map = null, wardLayers = [], siteLayers = [], candLayers = [], changeLayer = null;
  var pointRenderer = null, drawnClosed = {};
  function buildMap() {
    if (typeof L === "undefined") { return; }
    map = L.map("nwm-map", { zoomSnap: 0.25, keyboard: true, attributionControl: true });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(esc(D.notes.attribution));
    var bounds = [];
    W.forEach(function (w, i) {
      var latlngs = w.geometry.map(function (poly) { return poly.map(function (ring) { return ring.map(function (c) { return [c[1], c[0]]; }); }); });
      var layer = L.polygon(latlngs, { weight: 1.5, color: "#333", fillOpacity: 0.35, className: "nwm-ward" });
      layer.bindTooltip(esc(w.name), { sticky: true });
      layer.on("click", function () { selectWard(i); });
      layer.addTo(map);
      wardLayers.push(layer);
      bounds.push(layer.getBounds());
    });
    // candidates first: a site drawn later stays clickable where both stand
    D.candidates.forEach(function (c, i) {
      var m = L.circleMarker([c.lat, c.lon], { radius: 4, weight: 2, dashArray: "2,2", fillOpacity: 0.1, color: PAL.candidate, className: "nwm-candidate" });
      m.bindTooltip("Candidate: " + esc(c.label) + " (" + esc(c.why) + ")");
      m.on("click", function () { $("nwm-cand").value = String(i); $("nwm-cand-cat").focus(); });
      m.addTo(map);
      candLayers.push(m);
    });
    D.sites.forEach(function (s, i) {
      var m = L.circleMarker([s.lat, s.lon], { radius: 5, weight: 1.5, className: "nwm-site" });
      m.bindTooltip(esc(s.name) + " (" + esc(s.category) + ")" + (s.inside_area ? "" : ", outside " + esc(D.area)));
      m.on("click", function () { toggleSite(s.id); });
      m.addTo(map);
      siteLayers.push(m);
    });
    changeLayer = L.layerGroup().addTo(map);
    // residents losing or gaining access: one canvas, redrawn on pan and zoom
    var Dots = L.Layer.extend({
      onAdd: function (m) {
        this._c = L.DomUtil.create("canvas", "nwm-dots leaflet-zoom-hide");
        this._c.style.pointerEvents = "none";
        m.getPanes().overlayPane.appendChild(this._c);
        m.on("moveend zoomend resize", this._draw, this);
        this._draw();
      },
      onRemove: function (m) { L.DomUtil.remove(this._c); m.off("moveend zoomend resize", this._draw, this); },
      setDots: function (dots) { this._dots = dots; if (this._map) { this._draw(); } },
      _draw: function () {
        var m = this._map, size = m.getSize(), c = this._c, dots = this._dots || [];
        c.width = size.x; c.height = size.y;
        L.DomUtil.setPosition(c, m.containerPointToLayerPoint([0, 0]));
        var ctx = c.getContext("2d");
        dots.forEach(function (d) {
          var pt = m.latLngToContainerPoint([P.lat[d[0]], P.lon[d[0]]]);
          ctx.fillStyle = d[1];
          ctx.beginPath(); ctx.arc(pt.x, pt.y, 3, 0, 2 * Math.PI); ctx.fill();
        });
      }
    });
    pointRenderer = new Dots().addTo(map);
    var b = bounds[0];
    bounds.forEach(function (x) { b = b.extend(x); });
    if (b) { map.fitBounds(b, { padding: [10, 10] }); }
  }

  function toggleSite(id) {
    if (state.closed[id]) { delete state.closed[id]; } else { state.closed[id] = true; }
    update();
  }
  function selectWard(i) { $("nwm-ward").value = String(i); $("nwm-move-ward").value = String(i); renderWard(); }

  function fmtPct(x) { return x === null ? "–" : x.toFixed(2) + " %"; }
  function fmtN(x) { return Math.round(x).toLocaleString("en-GB"); }
  function fmtPts(x) { return x === null ? "–" : (x > 0 ? "+" : "") + x.toFixed(2); }
  function fillTable(id, head, rows) {
    var t = $(id);
    t.textContent = "";
    var thead = el("thead"), tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", { scope: "col" }, h)); });
    thead.appendChild(tr);
    t.appendChild(thead);
    var tb = el("tbody");
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (c, j) { row.appendChild(el(j === 0 ? "th" : "td", j === 0 ? { scope: "row" } : null, c)); });
      tb.appendChild(row);
    });
    t.appendChild(tb);
  }

  function currentMeasure() { return $("nwm-measure").value; }
  function render() {
    var m = currentMeasure(), R = result;
    var rows = R.localities.filter(function (r) { return r.measure === m; });
    var wardsPop = {}, wardsAssets = {};
    W.forEach(function (w, i) {
      var l = R.wl[i];
      wardsPop[l] = (wardsPop[l] || 0) + (w.population || 0);
      wardsAssets[l] = (wardsAssets[l] || 0) + assetsOf(i);
    });
    var locs = Object.keys(wardsPop).sort(cmpStr), n = locs.length;
    var totPop = 0, totA = 0;
    locs.forEach(function (l) { totPop += wardsPop[l]; totA += wardsAssets[l]; });
    fillTable("nwm-loc-table", ["Locality", "Residents", "Before", "After", "Change (points)", "Losing", "Gaining", "Population vs average", "Assets vs average", "Contiguous", "Best hub now (residents within)"],
      rows.map(function (r) {
        var l = r.locality, isArea = locs.indexOf(l) < 0, hub = R.hubs[l];
        var dp = isArea ? "" : ((wardsPop[l] / (totPop / n) - 1) * 100).toFixed(1) + " %";
        var da = isArea ? "" : (totA ? ((wardsAssets[l] / (totA / n) - 1) * 100).toFixed(1) + " %" : "–");
        var cont = isArea ? "" : (R.parts[l] === 1 ? "yes" : "NO: " + R.parts[l] + " parts");
        return [l, fmtN(r.population), fmtPct(r.baseline_pct), fmtPct(r.scenario_pct), fmtPts(r.change_pct_points),
          fmtN(r.residents_losing), fmtN(r.residents_gaining), dp, da, cont,
          isArea ? "" : (hub ? hub.name + " (" + fmtN(hub.score) + ")" : "no candidate")];
      }));
    var broken = locs.filter(function (l) { return R.parts[l] > 1; });
    $("nwm-contiguity").textContent = broken.length ? "Not contiguous: " + broken.join(", ") + "." : "Every locality is contiguous.";
    $("nwm-contiguity").className = broken.length ? "nwm-alert" : "";
    var eq = R.equity.filter(function (r) { return r.measure === m; });
    fillTable("nwm-equity-table", ["Group (" + D.area + ")", "Residents in group", "Losing", "Gaining"],
      eq.map(function (r) { return [r.group, fmtN(r.population), fmtN(r.residents_losing), fmtN(r.residents_gaining)]; }));
    var wr = R.wards.filter(function (r) { return r.measure === m; });
    fillTable("nwm-ward-table", ["Ward", "Locality", "Residents", "Before", "After", "Change (points)", "Losing", "Gaining"],
      wr.map(function (r) { return [r.ward_name, r.locality, fmtN(r.population), fmtPct(r.baseline_pct), fmtPct(r.scenario_pct), fmtPts(r.change_pct_points), fmtN(r.residents_losing), fmtN(r.residents_gaining)]; }));
    var t = performance.now();
    renderWard();
    renderChanges();
    var t2 = performance.now();
    renderMap();
    result.mapMs = performance.now() - t2;
    result.tablesMs = t2 - t;
    var area = rows.filter(function (r) { return r.locality === D.area; })[0];
    $("nwm-headline").textContent = area ? (m + " within " + state.minutes + " min at " + state.speed + " m/min: " + fmtPct(area.baseline_pct) + " before, " + fmtPct(area.scenario_pct) + " after; " + fmtN(area.residents_losing) + " residents lose access, " + fmtN(area.residents_gaining) + " gain it.") : "";
  }
  function assetsOf(i) {
    var a = W[i].assets || 0;
    D.sites.forEach(function (s) { if (s.ward === i && s.inside_area && state.closed[s.id]) { a -= 1; } });
    state.add.forEach(function (x) { if (D.candidates[x.candidate].ward === i) { a += 1; } });
    return a;
  }
  function renderWard() {
    if (!result) { return; }
    var i = Number($("nwm-ward").value), w = W[i];
    var rows = result.wards.filter(function (r) { return r.ward_code === w.code; });
    $("nwm-ward-title").textContent = w.name + " (" + w.code + "), locality " + result.wl[i] + (result.wl[i] !== w.locality ? " (moved from " + w.locality + ")" : "");
    fillTable("nwm-ward-panel", ["Measure", "Before", "After", "Change (points)", "Losing", "Gaining"],
      rows.map(function (r) { return [r.measure, fmtPct(r.baseline_pct), fmtPct(r.scenario_pct), fmtPts(r.change_pct_points), fmtN(r.residents_losing), fmtN(r.residents_gaining)]; }));
  }
  function renderChanges() {
    var ul = $("nwm-changes");
    ul.textContent = "";
    function item(text, undo) {
      var li = el("li", null, text + " ");
      var b = el("button", { type: "button" }, "Undo");
      b.addEventListener("click", function () { undo(); update(); });
      li.appendChild(b);
      ul.appendChild(li);
    }
    Object.keys(state.closed).forEach(function (id) {
      var s = D.sites[siteIndex[id]];
      item("Closed: " + s.name + " (" + s.category + ")", function () { delete state.closed[id]; });
    });
    state.add.forEach(function (a, k) {
      item("Opened: " + a.name, function () { state.add.splice(k, 1); });
    });
    Object.keys(state.moves).forEach(function (code) {
      item("Moved: " + W[wardIndex[code]].name + " to " + state.moves[code], function () { delete state.moves[code]; });
    });
    if (!ul.children.length) { ul.appendChild(el("li", null, "No change yet: the figures are the baseline's.")); }
    $("nwm-fragment").value = location.href.split("#")[0] + "#scenario=" + encodeFragment(stateScenario(state));
  }
  function renderMap() {
    if (!map) { return; }
    W.forEach(function (w, i) {
      var l = result.wl[i];
      wardLayers[i].setStyle({ fillColor: locColour(l), dashArray: l !== w.locality ? "6,4" : null, weight: l !== w.locality ? 3 : 1.5 });
    });
    D.sites.forEach(function (s, i) {
      var closed = !!state.closed[s.id];
      if (drawnClosed[s.id] === closed) { return; }
      drawnClosed[s.id] = closed;
      siteLayers[i].setStyle({ color: closed ? PAL.closed : PAL.site, fillColor: closed ? "#ffffff" : PAL.site, fillOpacity: closed ? 1 : 0.8, dashArray: closed ? "3,2" : null });
    });
    changeLayer.clearLayers();
    var m = currentMeasure(), sf = result.SF[m], bf = BASE_F[m];
    state.add.forEach(function (a) {
      var c = D.candidates[a.candidate];
      L.circleMarker([c.lat, c.lon], { radius: 7, weight: 3, color: PAL.added, fillOpacity: 0.6, className: "nwm-added" })
        .bindTooltip("Opened: " + esc(a.name)).addTo(changeLayer);
    });
    var dots = [];
    for (var p = 0; p < NP; p++) {
      if (bf[p] !== sf[p]) { dots.push([p, bf[p] ? PAL.losing : PAL.gaining]); }
    }
    pointRenderer.setDots(dots);
  }

  function writeComparison() {
    $("nwm-comparison").textContent = JSON.stringify(result.localities);
    $("nwm-comparison-wards").textContent = JSON.stringify(result.wards);
    $("nwm-comparison-equity").textContent = JSON.stringify(result.equity);
  }
  function update() {
    var t0 = performance.now();
    compute();
    var t1 = performance.now();
    writeComparison();
    var t2 = performance.now();
    render();
    result.timings = { compute: t1 - t0, write: t2 - t1, render: performance.now() - t2 };
    ensureOption($("nwm-minutes"), state.minutes, state.minutes + " minutes");
    ensureOption($("nwm-speed"), state.speed, "from the scenario (" + state.speed + " m/min)");
  }
  function ensureOption(sel, value, label) {
    var v = String(value);
    if (!Array.prototype.some.call(sel.options, function (o) { return o.value === v; })) {
      sel.appendChild(el("option", { value: v }, label));
    }
    sel.value = v;
  }
  function showErrors(errors) {
    var box = $("nwm-errors");
    box.textContent = "";
    errors.forEach(function (e) { box.appendChild(el("li", null, e)); });
    box.hidden = !errors.length;
  }
  function applyScenario(sc) {
    var r = scenarioState(sc);
    showErrors(r.errors);
    if (r.errors.length) { $("nwm-comparison").textContent = ""; return false; }
    state = r.state;
    Object.keys(state.moves).forEach(function (c) { locColour(state.moves[c]); });
    update();
    return true;
  }

  function optionList(select, items) {
    select.textContent = "";
    items.forEach(function (it) { var o = el("option", { value: it[0] }, it[1]); select.appendChild(o); });
  }
  function setUp() {
    optionList($("nwm-measure"), MEASURES.map(function (m) { return [m, m]; }));
    $("nwm-measure").value = BNAMES.length ? D.all_bundles : CATS[0];
    var mins = SET.minute_choices.slice();
    if (mins.indexOf(SET.minutes) < 0) { mins.push(SET.minutes); mins.sort(function (a, b) { return a - b; }); }
    optionList($("nwm-minutes"), mins.map(function (m) { return [String(m), m + " minutes"]; }));
    optionList($("nwm-speed"), Object.keys(SET.speeds).map(function (k) { return [String(SET.speeds[k]), k + " (" + SET.speeds[k] + " m/min)"]; }));
    optionList($("nwm-ward"), W.map(function (w, i) { return [String(i), w.name]; }));
    optionList($("nwm-move-ward"), W.map(function (w, i) { return [String(i), w.name]; }));
    optionList($("nwm-move-to"), D.localities.map(function (l) { return [l, l]; }));
    optionList($("nwm-cand"), D.candidates.map(function (c, i) { return [String(i), c.label + " (" + c.why + ")"]; }));
    optionList($("nwm-cand-cat"), CATS.map(function (c) { return [c, c]; }));
    $("nwm-minutes").addEventListener("change", function () { state.minutes = Number(this.value); update(); });
    $("nwm-speed").addEventListener("change", function () { state.speed = Number(this.value); update(); });
    $("nwm-measure").addEventListener("change", render);
    $("nwm-ward").addEventListener("change", renderWard);
    $("nwm-move").addEventListener("click", function () {
      var i = Number($("nwm-move-ward").value), to = $("nwm-move-new").value.trim() || $("nwm-move-to").value;
      if (to === W[i].locality) { delete state.moves[W[i].code]; } else { state.moves[W[i].code] = to; }
      locColour(to);
      update();
    });
    $("nwm-open").addEventListener("click", function () {
      var ci = Number($("nwm-cand").value), cat = $("nwm-cand-cat").value;
      state.add.push({ category: cat, candidate: ci, name: "New " + cat + " at " + D.candidates[ci].label });
      update();
    });
    $("nwm-search").addEventListener("input", search);
    $("nwm-reset").addEventListener("click", function () { state = { closed: {}, add: [], moves: {}, minutes: SET.minutes, speed: SET.speed_m_per_min }; showErrors([]); update(); });
    $("nwm-export-toml").addEventListener("click", function () { download("explorer-scenario.toml", scenarioToml(state), "application/toml"); });
    $("nwm-export-plan").addEventListener("click", function () { download("explorer-plan.csv", planCsv(state), "text/csv"); });
    $("nwm-export-cmp").addEventListener("click", function () { download("explorer-comparison.csv", comparisonCsv(result.localities), "text/csv"); });
    $("nwm-print").addEventListener("click", function () { window.print(); });
    $("nwm-import-toml").addEventListener("change", function () {
      var f = this.files[0];
      if (!f) { return; }
      f.text().then(function (text) { importToml(text); });
    });
    $("nwm-import-plan").addEventListener("change", function () {
      var f = this.files[0];
      if (!f) { return; }
      f.text().then(function (text) { importPlan(text); });
    });
  }
  function importToml(text) {
    var t = parseToml(text);
    if (t.errors.length) { showErrors(t.errors); return false; }
    var sc = tomlScenario(t.data);
    sc.moves = state.moves;
    return applyScenario(sc);
  }
  function importPlan(text) {
    var r = planMoves(text);
    if (r.errors.length) { showErrors(r.errors); return false; }
    var sc = stateScenario(state);
    sc.moves = r.moves;
    return applyScenario(sc);
  }
  function search() {
    var q = $("nwm-search").value.trim().toLowerCase(), ul = $("nwm-results");
    ul.textContent = "";
    if (q.length < 2) { return; }
    var hits = 0;
    W.forEach(function (w, i) {
      if (hits >= 30 || w.name.toLowerCase().indexOf(q) < 0) { return; }
      hits++;
      var li = el("li"), b = el("button", { type: "button", "class": "nwm-hit-ward" }, "Ward: " + w.name);
      b.addEventListener("click", function () { selectWard(i); if (map) { map.fitBounds(wardLayers[i].getBounds()); } $("nwm-ward-title").focus(); });
      li.appendChild(b); ul.appendChild(li);
    });
    D.sites.forEach(function (s) {
      if (hits >= 30 || (s.name.toLowerCase().indexOf(q) < 0 && s.id.toLowerCase() !== q)) { return; }
      hits++;
      var li = el("li"), b = el("button", { type: "button", "class": "nwm-hit-site", "data-asset": s.id },
        (state.closed[s.id] ? "Reopen: " : "Close: ") + s.name + " (" + s.category + ")");
      b.addEventListener("click", function () { toggleSite(s.id); search(); });
      li.appendChild(b); ul.appendChild(li);
    });
    if (!hits) { ul.appendChild(el("li", null, "Nothing found.")); }
  }

  setUp();
  buildMap();
  var frag = null, fragError = null;
  try { frag = decodeFragment(location.hash); } catch (e) { fragError = "cannot read the #scenario fragment: " + e.message; }
  if (fragError) { compute(); writeComparison(); render(); showErrors([fragError]); $("nwm-comparison").textContent = ""; }
  else if (frag) { if (!applyScenario(frag)) { compute(); render(); } }
  else { update(); }
  window.addEventListener("hashchange", function () {
    try { var sc = decodeFragment(location.hash); if (sc) { applyScenario(sc); } }
    catch (e) { showErrors(["cannot read the #scenario fragment: " + e.message]); }
  });
  document.body.setAttribute("data-nwm-ready-ms", String(Math.round(((window.performance && performance.now) ? performance.now() : 0) * 10) / 10));
  document.body.setAttribute("data-nwm-init-ms", String(Math.round((performance.now() - T0) * 10) / 10));
  window.nwmExplorer = {
    apply: applyScenario,
    importToml: importToml,
    importPlan: importPlan,
    scenarioToml: function () { return scenarioToml(state); },
    planCsv: function () { return planCsv(state); },
    encode: encodeFragment,
    scenario: function () { return stateScenario(state); },
    result: function () { return result; }
  };
})();
