// The lobby board: polls each point's /api/v1/points/POINT/board with the ETag it holds,
// redraws only when the answer changed, turns pages of long lists, shows recent calls to a
// counter (and speaks them when ?suara=1), and keeps the last list on screen with a visible
// "last updated" when the network drops, until the server answers again.
(function () {
  "use strict";

  var body = document.body;
  var settings = JSON.parse(body.dataset.settings);
  var text = JSON.parse(body.dataset.text);
  var lang = body.dataset.lang;
  var zone = body.dataset.zone;
  var locale = lang === "en" ? "en-GB" : "id-ID";
  var RELOAD_AFTER = 6 * 3600 * 1000; // a fresh page now and then picks up a new release
  var startedAt = Date.now();
  var skew = 0; // server clock minus this TV's clock, from the Date header

  var clockFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone });
  var dateFormat = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: zone });
  var dayFormat = new Intl.DateTimeFormat(locale, { day: "2-digit", month: "2-digit", timeZone: zone });
  var weekdayFormat = new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: zone });
  var longDayFormat = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? values[name] : all;
    });
  }

  function now() {
    return Date.now() + skew;
  }

  function clock(ms) {
    return clockFormat.format(new Date(ms));
  }

  function cell(row, value, className) {
    var td = document.createElement("td");
    td.textContent = value;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function Board(section) {
    this.section = section;
    this.code = section.dataset.code;
    this.url = section.dataset.api;
    this.rows = section.querySelector("[data-role=rows]");
    this.list = section.querySelector("[data-role=list]");
    this.empty = section.querySelector("[data-role=empty]");
    this.pageLine = section.querySelector("[data-role=page]");
    this.hours = section.querySelector("[data-role=hours]");
    this.closures = section.querySelector("[data-role=closures]");
    this.etag = null;
    this.data = null;
    this.lastOk = null;
    this.page = 0;
    this.pending = false;
  }

  Board.prototype.poll = function () {
    var self = this;
    if (self.pending) return;
    self.pending = true;
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, Math.max(4, settings.refresh * 2) * 1000);
    var headers = { Accept: "application/json" };
    if (self.etag) headers["If-None-Match"] = self.etag;
    fetch(self.url, { headers: headers, cache: "no-store", signal: controller.signal })
      .then(function (response) {
        var date = Date.parse(response.headers.get("Date") || "");
        if (!isNaN(date)) skew = date - Date.now();
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        self.etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        self.lastOk = Date.now();
        if (data) {
          self.data = data;
          self.draw();
        } else {
          self.drawHours();
        }
      })
      .catch(function () { /* the stale marker tells; the next poll tries again */ })
      .then(function () {
        clearTimeout(timer);
        self.pending = false;
        showStatus();
      });
  };

  Board.prototype.draw = function () {
    var data = this.data;
    this.drawHours();
    this.drawClosures();
    var fresh = document.createDocumentFragment();
    var t = now();
    data.documents.forEach(function (doc) {
      var row = document.createElement("tr");
      cell(row, doc.number, "number");
      var name = cell(row, doc.name, "name");
      if (t - Date.parse(doc.ready_since) < settings["new"] * 1000) {
        row.className = "new";
        var badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = text["new"];
        name.appendChild(badge);
      }
      cell(row, lang === "en" ? doc.service.en : doc.service.id, "service");
      cell(row, doc.counter || "–", doc.called_at ? "counter called" : "counter");
      cell(row, doc.until ? fill(text.until, { day: dayFormat.format(new Date(doc.until)) }) : "–", "until");
      fresh.appendChild(row);
    });
    this.rows.replaceChildren(fresh);
    this.empty.hidden = data.documents.length > 0;
    this.empty.textContent = text.empty;
    this.showPage();
    drawCalls();
    drawTicker();
  };

  // Pages are runs of rows that fit the list's height as drawn: a row whose name or service
  // wraps takes the room it needs, and no row is ever cut at the bottom.
  Board.prototype.pages = function () {
    var all = Array.prototype.slice.call(this.rows.children);
    all.forEach(function (row) { row.hidden = false; });
    var room = this.list.clientHeight;
    var pages = [];
    var page = [];
    var used = 0;
    all.forEach(function (row) {
      var height = row.getBoundingClientRect().height;
      if (page.length && used + height > room) {
        pages.push(page);
        page = [];
        used = 0;
      }
      page.push(row);
      used += height;
    });
    if (page.length) pages.push(page);
    return { all: all, pages: pages.length ? pages : [[]] };
  };

  // Open (with today's hours) or closed and when it opens next, at this moment: redrawn on
  // every poll, since the moment moves while the list stays the same.
  Board.prototype.drawHours = function () {
    var data = this.data;
    if (!data) return;
    var t = now();
    var periods = data.today.periods || [];
    var openNow = periods.some(function (p) {
      return Date.parse(p.opens) <= t && t < Date.parse(p.closes);
    });
    if (openNow) {
      var open = data.today.open.map(function (p) {
        return (p.opens + "–" + p.closes).replace(/:/g, lang === "en" ? ":" : ".");
      });
      this.hours.textContent = fill(text.open, { hours: open.join(", ") });
      return;
    }
    var later = periods.filter(function (p) { return Date.parse(p.opens) > t; })[0];
    var next = later ? later.opens : data.today.next_open;
    if (!next) {
      this.hours.textContent = text.closed;
      return;
    }
    var when = later ? text.today : weekdayFormat.format(new Date(next));
    this.hours.textContent = fill(text.closed_until, { when: when + " " + clock(Date.parse(next)) });
  };

  Board.prototype.drawClosures = function () {
    var closures = this.data.closures || [];
    this.closures.hidden = closures.length === 0;
    this.closures.textContent = text.closures + ": " + closures.map(function (c) {
      var day = longDayFormat.format(new Date(c.date + "T12:00:00Z"));
      return c.reason ? day + " (" + c.reason + ")" : day;
    }).join(" · ");
  };

  Board.prototype.showPage = function () {
    var laid = this.pages();
    var pages = laid.pages.length;
    if (this.page >= pages) this.page = 0;
    var shown = laid.pages[this.page];
    laid.all.forEach(function (row) { row.hidden = shown.indexOf(row) < 0; });
    this.pageLine.textContent = pages > 1 ? fill(text.page, { page: this.page + 1, pages: pages }) : "";
  };

  Board.prototype.turn = function () {
    this.page += 1;
    this.showPage();
  };

  var boards = Array.prototype.map.call(document.querySelectorAll("section.point"), function (s) {
    return new Board(s);
  });

  // Calls to a counter, newest first, while they are recent; spoken once each when asked.
  var spoken = null;
  var voiceOn = false;

  function recentCalls() {
    var t = now();
    var calls = [];
    boards.forEach(function (b) {
      (b.data ? b.data.documents : []).forEach(function (doc) {
        if (doc.called_at && t - Date.parse(doc.called_at) < settings.call * 1000) {
          calls.push(doc);
        }
      });
    });
    calls.sort(function (a, b) { return Date.parse(b.called_at) - Date.parse(a.called_at); });
    return calls;
  }

  function drawCalls() {
    var list = document.querySelector("[data-role=calls]");
    var calls = recentCalls();
    var items = document.createDocumentFragment();
    calls.slice(0, 4).forEach(function (doc) {
      var li = document.createElement("li");
      var number = document.createElement("span");
      number.className = "call-number";
      number.textContent = doc.number;
      var counter = document.createElement("span");
      counter.className = "call-counter";
      counter.textContent = doc.counter || "";
      li.appendChild(number);
      li.appendChild(counter);
      items.appendChild(li);
    });
    list.replaceChildren(items);
    speak(calls);
  }

  function spokenNumber(number) {
    // "B-017" is read out as "B, 0 1 7": a digit at a time, as a caller at the counter says it.
    return number.replace("-", ", ").replace(/\d/g, function (d) { return d + " "; }).trim();
  }

  function speak(calls) {
    var keys = calls.map(function (doc) { return doc.number + "@" + doc.called_at; });
    var primed = spoken !== null;
    if (!primed) spoken = new Set();
    if (!primed || boards.some(function (b) { return b.data === null; })) {
      // What was already called when the board opened is not read out again.
      keys.forEach(function (key) { spoken.add(key); });
      if (boards.some(function (b) { return b.data === null; })) spoken = null;
      return;
    }
    calls.slice().reverse().forEach(function (doc, i) {
      var key = keys[calls.length - 1 - i];
      if (spoken.has(key)) return;
      spoken.add(key);
      if (settings.speech && voiceOn && "speechSynthesis" in window) {
        say(fill(text.speech, { number: spokenNumber(doc.number), counter: doc.counter || "" }));
      }
    });
  }

  function say(line) {
    var utterance = new SpeechSynthesisUtterance(line);
    utterance.lang = lang === "en" ? "en-GB" : "id-ID";
    var voice = window.speechSynthesis.getVoices().filter(function (v) {
      return v.lang && v.lang.toLowerCase().indexOf(lang === "en" ? "en" : "id") === 0;
    })[0];
    if (voice) utterance.voice = voice;
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  var speechButton = document.querySelector("[data-role=speech]");
  if (speechButton) {
    speechButton.addEventListener("click", function () {
      voiceOn = true;
      speechButton.hidden = true;
      if ("speechSynthesis" in window) say(text.speech_on);
    });
  }

  function drawTicker() {
    var line = boards
      .map(function (b) { return b.data && b.data.ticker ? b.data.ticker[lang] || b.data.ticker.id : ""; })
      .filter(Boolean)
      .join("   •   ");
    var ticker = document.querySelector("[data-role=ticker]");
    if (ticker.textContent !== line) ticker.textContent = line;
  }

  // "Last updated" is the time of the oldest successful answer among the points on screen;
  // it turns into a warning when that is more than three refresh periods ago.
  function showStatus() {
    var status = document.querySelector("[data-role=status]");
    var times = boards.map(function (b) { return b.lastOk; });
    if (times.some(function (t) { return t === null; })) {
      var never = boards.every(function (b) { return b.data === null; });
      if (never) {
        status.textContent = text.waiting;
        body.classList.toggle("stale", Date.now() - startedAt > staleAfter());
        return;
      }
    }
    var oldest = Math.min.apply(null, times.filter(function (t) { return t !== null; }));
    var stale = Date.now() - oldest > staleAfter();
    body.classList.toggle("stale", stale);
    status.textContent = fill(stale ? text.stale : text.updated, { time: clock(oldest + skew) });
  }

  function staleAfter() {
    return Math.max(3, settings.refresh * 3) * 1000;
  }

  function tick() {
    var t = new Date(now());
    document.querySelector("[data-role=clock]").textContent = clockFormat.format(t);
    document.querySelector("[data-role=date]").textContent = dateFormat.format(t);
  }

  function pollAll() {
    boards.forEach(function (b) { b.poll(); });
    showStatus();
    if (Date.now() - startedAt > RELOAD_AFTER && !body.classList.contains("stale")) {
      window.location.reload();
    }
  }

  tick();
  pollAll();
  setInterval(tick, 1000);
  setInterval(pollAll, settings.refresh * 1000);
  setInterval(function () { boards.forEach(function (b) { b.turn(); }); }, settings.page * 1000);
  // Highlights and calls age on the TV's clock even when no answer changes.
  setInterval(function () { boards.forEach(function (b) { if (b.data) b.draw(); }); }, 30 * 1000);
  window.addEventListener("resize", function () { boards.forEach(function (b) { b.showPage(); }); });
  // The footer grows when it warns that the network is down, and a point's head when its
  // hours wrap: each list is paged again for the room it has left.
  if ("ResizeObserver" in window) {
    boards.forEach(function (b) {
      var height = null;
      new ResizeObserver(function () {
        if (b.list.clientHeight === height) return;
        height = b.list.clientHeight;
        b.showPage();
      }).observe(b.list);
    });
  }
})();
