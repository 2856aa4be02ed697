// Entry point of the dashboard page: styles, the one WebSocket, the React tree.
import { createRoot } from "react-dom/client";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { App } from "./app.js";
import { link } from "./connection.js";

link.connect();
createRoot(document.getElementById("root")!).render(<App />);
