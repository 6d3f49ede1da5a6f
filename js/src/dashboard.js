// anywidget entry point of ExecutionDashboard.
import { renderDashboard } from "./render/dashboard.js";

export default {
  initialize() {
    return () => {};
  },
  render({ model, el }) {
    return renderDashboard({ model, el });
  },
};
