// anywidget entry point of JobWidget.
import { renderJob } from "./render/jobview.js";

export default {
  initialize() {
    return () => {};
  },
  render({ model, el }) {
    return renderJob({ model, el });
  },
};
