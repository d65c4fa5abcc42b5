(function () {
  var buttons = document.querySelectorAll("button[data-filter]");
  function setFilter(value) {
    document.body.setAttribute("data-filter", value);
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-filter") === value ? "true" : "false");
    }
  }
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (event) {
      setFilter(event.currentTarget.getAttribute("data-filter"));
    });
  }
  function reveal() {
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.offsetParent === null) {
      setFilter("all");
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", reveal);
  setFilter("all");
})();

// Reviewer corrections: kept in localStorage under the document's SHA-256, exported as one JSON file
// (docs/feedback.md). Nothing leaves the browser except through the download the reviewer starts.
(function () {
  var source = document.getElementById("review-data");
  if (!source || !document.getElementById("review")) {
    return;
  }
  var data = JSON.parse(source.getAttribute("data-review"));
  var key = source.getAttribute("data-storage-key");
  var LABELS = { covered: "覆盖", weak: "薄弱", missing: "缺失" };
  var message = document.getElementById("review-status");
  var nameInput = document.getElementById("reviewer-name");
  var addPassage = document.getElementById("add-passage");
  var addClause = document.getElementById("add-clause");
  var addedList = document.getElementById("added-evidence");
  var statusSelects = document.querySelectorAll("select[data-review-status]");
  var comparisonSelects = document.querySelectorAll("select[data-review-comparison]");
  var evidenceButtons = document.querySelectorAll("button[data-evidence]");
  var storable = true;

  function empty() {
    return { version: 1, reviewer: "", status: {}, evidence: {}, comparisons: {}, added: [] };
  }
  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(key) || "null");
      if (saved && saved.version === 1) {
        return saved;
      }
    } catch (error) {
      storable = false;
    }
    return empty();
  }
  var state = load();

  function save() {
    try {
      window.localStorage.setItem(key, JSON.stringify(state));
    } catch (error) {
      storable = false;
    }
    refresh();
  }
  function say(text) {
    message.textContent = text;
  }
  function paragraphLabel(pid) {
    for (var i = 0; i < addPassage.options.length; i++) {
      if (addPassage.options[i].value === pid) {
        return addPassage.options[i].textContent;
      }
    }
    return pid;
  }

  // The status a clause ends with, and its evidence passages, as feedback import decides them.
  function comparisonValue(item, kind) {
    var chosen = state.comparisons[item + " " + kind];
    return chosen === undefined ? data.comparisons[item][kind] : chosen === "true";
  }
  function finalStatus(cid) {
    for (var item in data.comparison_clauses) {
      if (data.comparison_clauses[item] === cid) {
        var past = comparisonValue(item, "past");
        var benchmark = comparisonValue(item, "benchmark");
        return past && benchmark ? "covered" : past || benchmark ? "weak" : "missing";
      }
    }
    return state.status[cid] || data.clauses[cid].status;
  }
  function evidenceCount(cid) {
    var tool = data.clauses[cid];
    var count = 0;
    for (var i = 0; i < tool.evidence.length; i++) {
      count += state.evidence[cid + " " + tool.evidence[i]] === "no" ? 0 : 1;
    }
    for (var j = 0; j < tool.near.length; j++) {
      count += state.evidence[cid + " " + tool.near[j]] === "yes" ? 1 : 0;
    }
    for (var k = 0; k < state.added.length; k++) {
      count += state.added[k][0] === cid ? 1 : 0;
    }
    return count;
  }
  function noteFor(cid) {
    var status = finalStatus(cid);
    var count = evidenceCount(cid);
    var chosen = state.status[cid];
    var added = state.added.filter(function (pair) { return pair[0] === cid; }).map(function (pair) {
      return paragraphLabel(pair[1]).split(" ")[0];
    });
    var parts = [];
    if (added.length) {
      parts.push("复核添加证据：" + added.join("、"));
    }
    if (chosen && chosen !== status) {
      parts.push("⚠ 本条状态由结果比对决定，为“" + LABELS[status] + "”");
    } else if (status === "missing" && count && chosen) {
      parts.push("⚠ 改判为缺失时，请把本条的证据段落都标为“不是证据”");
    } else if (status !== "missing" && !count) {
      parts.push("⚠ 状态为“" + LABELS[status] + "”，但没有证据段落：请添加证据段落或改判为缺失");
    } else if (status === "missing" && count && !chosen) {
      parts.push("⚠ 已有证据段落：请选择“覆盖”或“薄弱”");
    }
    return parts.join("；");
  }

  function corrections() {
    var out = [];
    Object.keys(state.status).sort().forEach(function (cid) {
      var tool = data.clauses[cid].status;
      var value = state.status[cid];
      out.push({ type: "clause_status", clause: cid, tool: tool, value: value, changed: value !== tool });
    });
    Object.keys(state.evidence).sort().forEach(function (both) {
      var cid = both.split(" ")[0];
      var pid = both.split(" ")[1];
      var tool = data.clauses[cid].evidence.indexOf(pid) >= 0 ? "evidence" : "near";
      var value = state.evidence[both] === "yes";
      var span = data.passages[pid];
      out.push({
        type: "passage", clause: cid, passage: pid, start: span[0], end: span[1],
        tool: tool, value: value, changed: value !== (tool === "evidence")
      });
    });
    state.added.forEach(function (pair) {
      var span = data.passages[pair[1]];
      out.push({ type: "added_evidence", clause: pair[0], passage: pair[1], start: span[0], end: span[1], changed: true });
    });
    Object.keys(state.comparisons).sort().forEach(function (both) {
      var item = both.split(" ")[0];
      var kind = both.split(" ")[1];
      var tool = data.comparisons[item][kind];
      var value = state.comparisons[both] === "true";
      out.push({ type: "comparison", item: item, kind: kind, tool: tool, value: value, changed: value !== tool });
    });
    return out;
  }

  function refresh() {
    nameInput.value = state.reviewer || "";
    for (var i = 0; i < statusSelects.length; i++) {
      var cid = statusSelects[i].getAttribute("data-review-status");
      statusSelects[i].value = state.status[cid] || "";
    }
    for (var j = 0; j < comparisonSelects.length; j++) {
      var both = comparisonSelects[j].getAttribute("data-review-comparison") + " " +
        comparisonSelects[j].getAttribute("data-kind");
      comparisonSelects[j].value = state.comparisons[both] || "";
    }
    for (var k = 0; k < evidenceButtons.length; k++) {
      var button = evidenceButtons[k];
      var chosen = state.evidence[button.getAttribute("data-evidence") + " " + button.getAttribute("data-pid")];
      button.setAttribute("aria-pressed", chosen === button.getAttribute("data-value") ? "true" : "false");
    }
    var notes = document.querySelectorAll("[data-review-note]");
    for (var n = 0; n < notes.length; n++) {
      notes[n].textContent = noteFor(notes[n].getAttribute("data-review-note"));
    }
    while (addedList.firstChild) {
      addedList.removeChild(addedList.firstChild);
    }
    state.added.forEach(function (pair, index) {
      var item = document.createElement("li");
      item.textContent = paragraphLabel(pair[1]) + " → " + pair[0] + " ";
      var undo = document.createElement("button");
      undo.type = "button";
      undo.textContent = "撤销";
      undo.setAttribute("aria-label", "撤销：" + paragraphLabel(pair[1]).split(" ")[0] + "作为 " + pair[0] + " 的证据");
      undo.setAttribute("data-undo", String(index));
      item.appendChild(undo);
      addedList.appendChild(item);
    });
    var count = corrections().length;
    say("已记录 " + count + " 条复核意见" + (storable ? "（已保存在本浏览器）" : "（本浏览器不允许保存，请及时导出）") + "。");
  }

  nameInput.addEventListener("input", function () {
    state.reviewer = nameInput.value.trim();
    save();
  });
  function onSelect(select, store, name) {
    select.addEventListener("change", function () {
      if (select.value) {
        store[name] = select.value;
      } else {
        delete store[name];
      }
      save();
    });
  }
  for (var i = 0; i < statusSelects.length; i++) {
    onSelect(statusSelects[i], state.status, statusSelects[i].getAttribute("data-review-status"));
  }
  for (var j = 0; j < comparisonSelects.length; j++) {
    onSelect(comparisonSelects[j], state.comparisons,
      comparisonSelects[j].getAttribute("data-review-comparison") + " " + comparisonSelects[j].getAttribute("data-kind"));
  }
  for (var k = 0; k < evidenceButtons.length; k++) {
    evidenceButtons[k].addEventListener("click", function (event) {
      var button = event.currentTarget;
      var both = button.getAttribute("data-evidence") + " " + button.getAttribute("data-pid");
      if (state.evidence[both] === button.getAttribute("data-value")) {
        delete state.evidence[both];  // pressed again: back to no opinion
      } else {
        state.evidence[both] = button.getAttribute("data-value");
      }
      save();
    });
  }
  document.getElementById("add-evidence").addEventListener("click", function () {
    var pid = addPassage.value;
    var cid = addClause.value;
    if (!pid) {
      say("请先选择一个段落。");
      addPassage.focus();
      return;
    }
    var tool = data.clauses[cid];
    var already = state.added.some(function (pair) { return pair[0] === cid && pair[1] === pid; });
    if (already || tool.evidence.indexOf(pid) >= 0 || tool.near.indexOf(pid) >= 0) {
      say("该段落已列在 " + cid + " 下：请在该条款下点“是证据”或“不是证据”。");
      return;
    }
    state.added.push([cid, pid]);
    save();
  });
  addedList.addEventListener("click", function (event) {
    var index = event.target.getAttribute("data-undo");
    if (index !== null) {
      state.added.splice(Number(index), 1);
      save();
      addPassage.focus();
    }
  });
  document.getElementById("fulltext").addEventListener("click", function (event) {
    var span = event.target.closest ? event.target.closest("span.passage[data-pid]") : null;
    if (span && !span.classList.contains("kind-heading")) {
      addPassage.value = span.getAttribute("data-pid");
      say("已选择" + paragraphLabel(addPassage.value).split(" ")[0] + "：请在“复核与导出”中选择条款并点“添加为证据”。");
    }
  });
  document.getElementById("clear-review").addEventListener("click", function () {
    if (window.confirm("清除本页的全部复核意见？已导出的文件不受影响。")) {
      state = empty();
      save();
      location.reload();
    }
  });
  document.getElementById("export-review").addEventListener("click", function () {
    var exported = {
      format: "evidence-nlp-review",
      version: 1,
      document: data.document,
      guideline: data.guideline,
      tool: data.tool,
      encoder: data.encoder,
      matcher: data.matcher,
      reviewer: state.reviewer || "",
      exported_at: new Date().toISOString(),
      tool_verdict: { clauses: data.clauses, comparisons: data.comparisons, passages: data.passages },
      corrections: corrections()
    };
    var blob = new Blob([JSON.stringify(exported, null, 2) + "\n"], { type: "application/json" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "review-" + data.document.sha256.slice(0, 12) + ".json";
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    say("已导出 " + exported.corrections.length + " 条复核意见：" + link.download);
  });
  refresh();
})();

// The results-data table: a header button sorts its table's rows by that column (again: the other
// way round); rows that tie keep document order. Buttons, so the keyboard sorts as the mouse does.
(function () {
  var tables = document.querySelectorAll("table.results");
  function value(row, key, type) {
    var raw = row.getAttribute("data-sort-" + key);
    if (type === "number") {
      return raw === "" || raw === null ? null : Number(raw);
    }
    return raw || "";
  }
  function sortBy(table, header) {
    var key = header.getAttribute("data-sort-key");
    var type = header.getAttribute("data-sort-type");
    var direction = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var sign = direction === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, key, type);
      var y = value(b, key, type);
      var order = Number(a.getAttribute("data-sort-order")) - Number(b.getAttribute("data-sort-order"));
      if (x === null || y === null) {
        return x === y ? order : x === null ? 1 : -1;  // rows without a value last, either way
      }
      var diff = type === "number" ? x - y : x.localeCompare(y, "zh-Hans-CN");
      return diff ? sign * diff : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    var headers = table.querySelectorAll("th[data-sort-key]");
    for (var i = 0; i < headers.length; i++) {
      headers[i].setAttribute("aria-sort", headers[i] === header ? direction : "none");
    }
  }
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("th[data-sort-key] button"), function (button) {
      button.addEventListener("click", function () {
        sortBy(table, button.parentNode);
      });
    });
  });
})();
