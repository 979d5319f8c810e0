/* global Option */
import { byId, replace } from './dom.js';
import { DISPOSITIONS, levelText } from './labels.js';

/**
 * The acknowledge and close dialogs (`<dialog>`). Each resolves once the API accepted the action, or with null when
 * the operator cancelled; an API error is shown in the dialog, which stays open.
 */
export class HandlingDialogs {
  constructor(api, { onDone }) {
    this.api = api;
    this.onDone = onDone;
    this.ack = byId('ack-dialog');
    this.close = byId('close-dialog');
    const disposition = byId('close-disposition');
    for (const [value, label] of Object.entries(DISPOSITIONS)) {
      if (value === 'auto_resolved') continue; // the system's, not an operator's
      disposition.append(new Option(label, value));
    }
    this.wire(this.ack, (alert, form) => this.api.post(`/api/v1/alerts/${alert.id}/ack`, form.note.value.trim() ? { note: form.note.value.trim() } : {}));
    this.wire(this.close, (alert, form) => this.api.post(`/api/v1/alerts/${alert.id}/close`, { disposition: form.disposition.value, note: form.note.value.trim() }));
  }

  wire(dialog, action) {
    const form = dialog.querySelector('form');
    const error = dialog.querySelector('.error');
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const alert = dialog.alert;
      if (!alert || !form.reportValidity()) return;
      const submit = form.querySelector('button[type=submit]');
      submit.disabled = true;
      error.textContent = '';
      try {
        const { event } = await action(alert, form);
        dialog.close();
        this.onDone(event);
      } catch (err) {
        error.textContent = err.message;
      } finally {
        submit.disabled = false;
      }
    });
    dialog.querySelector('.cancel').addEventListener('click', () => dialog.close());
  }

  open(dialog, alert) {
    dialog.alert = alert;
    dialog.querySelector('form').reset();
    dialog.querySelector('.error').textContent = '';
    replace(dialog.querySelector('.subject'), `${levelText(alert.level)}\u3000${alert.title}\u3000${alert.tenant} / ${alert.device_id}`);
    dialog.showModal();
  }

  openAck(alert) {
    this.open(this.ack, alert);
  }

  openClose(alert) {
    this.open(this.close, alert);
  }
}
