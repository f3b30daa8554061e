// The draw-a-digit page: draw with a mouse, a finger or a pen (Pointer Events), or give a
// photo (upload, drop, paste); every stroke or image is sent to the API and the answer shown.
// In number mode each digit read is also outlined on the drawing, from its box in the image.
"use strict";

(function () {
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d");
  const boxes = document.getElementById("boxes"); // the outlines of the digits read, on top
  const boxContext = boxes.getContext("2d");
  const drop = document.getElementById("drop");
  const hint = document.getElementById("hint");
  const result = document.getElementById("result");
  const confidence = document.getElementById("confidence");
  const top = document.getElementById("top");
  const seenFigure = document.getElementById("seen-figure");
  const seen = document.getElementById("seen");
  const seenDigits = document.getElementById("seen-digits");
  const error = document.getElementById("error");
  const fileInput = document.getElementById("file");
  const SIZES = { digit: [280, 280], number: [640, 240] };
  let mode = "digit";
  let drawing = null; // the pointer drawing now, if any
  let inked = false; // whether the canvas holds strokes (a photo is sent as its own file)
  let pending = null; // the request in flight, so that only the latest answer is shown
  let timer = null;
  let inputs = 0; // strokes drawn and images given; the answer shown is for document.body.dataset.answered
  let placement = { scale: 1, dx: 0, dy: 0 }; // image pixels -> canvas pixels (a photo is scaled)

  function resetCanvas() {
    const [width, height] = SIZES[mode];
    canvas.width = width;
    canvas.height = height;
    boxes.width = width;
    boxes.height = height;
    placement = { scale: 1, dx: 0, dy: 0 };
    context.clearRect(0, 0, width, height); // transparent, as drawing apps export
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";
    context.lineWidth = mode === "digit" ? 18 : 14;
    inked = false;
    hint.hidden = false;
  }

  function clearAnswer() {
    result.textContent = "-";
    confidence.textContent = "";
    top.replaceChildren();
    seenFigure.hidden = true;
    seenDigits.hidden = true;
    seenDigits.replaceChildren();
    boxContext.clearRect(0, 0, boxes.width, boxes.height);
    error.textContent = "";
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (!inked) {
      resetCanvas();
    }
    canvas.setPointerCapture(event.pointerId);
    drawing = event.pointerId;
    const [x, y] = point(event);
    context.beginPath();
    context.moveTo(x, y);
    context.lineTo(x + 0.01, y);
    context.stroke();
    inked = true;
    hint.hidden = true;
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (drawing !== event.pointerId) {
      return;
    }
    const [x, y] = point(event);
    context.lineTo(x, y);
    context.stroke();
    event.preventDefault();
  });
  function endStroke(event) {
    if (drawing !== event.pointerId) {
      return;
    }
    drawing = null;
    inputs += 1;
    clearTimeout(timer);
    timer = setTimeout(() => canvas.toBlob((blob) => send(blob, "canvas.png")), 120);
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);

  function clearAll() {
    resetCanvas();
    clearAnswer();
    canvas.focus();
  }
  document.getElementById("clear").addEventListener("click", clearAll);
  canvas.addEventListener("keydown", (event) => {
    if (event.key === "Escape" || event.key === "Delete" || event.key === "Backspace") {
      clearAll();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && event.target === document.body) {
      clearAll();
    }
  });

  function showPhoto(file) {
    const url = URL.createObjectURL(file);
    const picture = new Image();
    const name = file.name || "photo";
    picture.onload = () => {
      resetCanvas();
      const scale = Math.min(canvas.width / picture.width, canvas.height / picture.height);
      const width = picture.width * scale;
      const height = picture.height * scale;
      placement = { scale, dx: (canvas.width - width) / 2, dy: (canvas.height - height) / 2 };
      context.drawImage(picture, placement.dx, placement.dy, width, height);
      hint.hidden = true;
      URL.revokeObjectURL(url);
      send(file, name); // after drawing it, so that the digits' outlines land on the photo
    };
    picture.onerror = () => {
      URL.revokeObjectURL(url);
      send(file, name); // a file the browser cannot show: the server says what it is
    };
    picture.src = url;
    inputs += 1;
  }

  fileInput.addEventListener("change", () => {
    if (fileInput.files.length) {
      showPhoto(fileInput.files[0]);
      fileInput.value = "";
    }
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = [...event.dataTransfer.files].find((f) => f.type.startsWith("image/"));
    if (file) {
      showPhoto(file);
    } else {
      error.textContent = "Drop an image file.";
    }
  });
  document.addEventListener("paste", (event) => {
    const item = [...event.clipboardData.items].find((i) => i.type.startsWith("image/"));
    if (item) {
      showPhoto(item.getAsFile());
      event.preventDefault();
    }
  });
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => {
      mode = radio.value;
      clearAll();
    });
  }

  async function send(blob, name) {
    const input = inputs;
    const form = new FormData();
    form.append("file", blob, name);
    const endpoint = mode === "digit" ? "/v1/predict?top_k=3&framed=true" : "/v1/read?framed=true";
    const request = (pending = fetch(endpoint, { method: "POST", body: form }));
    let body;
    try {
      const response = await request;
      body = await response.json();
    } catch (failure) {
      if (request === pending) {
        error.textContent = "The server did not answer: " + failure;
      }
      return;
    }
    if (request !== pending) {
      return; // a newer stroke's answer is on its way
    }
    document.body.dataset.answered = String(input);
    clearAnswer();
    const answer = body.results ? body.results[0] : body;
    if (!answer || answer.error) {
      error.textContent = (answer && answer.error) || body.error || "No answer.";
      return;
    }
    if (mode === "digit") {
      showDigit(answer);
    } else {
      showNumber(answer);
    }
  }

  function showDigit(answer) {
    result.textContent = String(answer.digit);
    confidence.textContent = (100 * answer.confidence).toFixed(1) + "% sure";
    for (const entry of answer.top_k || []) {
      const row = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = String(entry.digit);
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = (100 * entry.probability).toFixed(1) + "%";
      const value = document.createElement("span");
      value.className = "p";
      value.textContent = (100 * entry.probability).toFixed(1) + "%";
      row.append(label, bar, value);
      row.setAttribute("aria-label", entry.digit + ": " + value.textContent);
      top.append(row);
    }
    if (answer.framed) {
      seen.src = answer.framed;
      seenFigure.hidden = false;
    }
  }

  function showNumber(answer) {
    result.textContent = answer.text === "" ? "(no digits)" : answer.text;
    confidence.textContent = (100 * answer.confidence).toFixed(1) + "% sure of the whole number";
    (answer.digits || []).forEach((digit, index) => {
      const figure = document.createElement("figure");
      figure.dataset.digit = String(digit.digit);
      figure.dataset.box = digit.box.join(",");
      if (digit.framed) {
        const picture = document.createElement("img");
        picture.src = digit.framed;
        picture.width = 56;
        picture.height = 56;
        picture.alt = "digit " + digit.digit + " as the model saw it";
        figure.append(picture);
      }
      const caption = document.createElement("figcaption");
      const [x0, y0, x1, y1] = digit.box;
      caption.append(
        digit.digit + " (" + (100 * digit.confidence).toFixed(0) + "%)",
        document.createElement("br"),
        "x " + x0 + "-" + x1 + ", y " + y0 + "-" + y1
      );
      figure.append(caption);
      seenDigits.append(figure);
      outline(digit.box, index + 1);
    });
    seenDigits.hidden = !seenDigits.children.length;
  }

  function outline(box, label) {
    const { scale, dx, dy } = placement;
    const [x0, y0, x1, y1] = box;
    const left = dx + x0 * scale;
    const topEdge = dy + y0 * scale;
    boxContext.strokeStyle = "#2458d6";
    boxContext.lineWidth = 2;
    boxContext.strokeRect(left, topEdge, (x1 - x0) * scale, (y1 - y0) * scale);
    boxContext.fillStyle = "#2458d6";
    boxContext.font = "14px system-ui, sans-serif";
    boxContext.fillText(String(label), left + 3, Math.max(12, topEdge - 4));
  }

  resetCanvas();
})();
